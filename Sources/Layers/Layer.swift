import Kernels

/// A learnable tensor with its gradient. `trainable == false` freezes it: no gradient is computed for it
/// and optimisers leave it bit-identical.
public final class Parameter {
    public let value: Tensor
    public let grad: Tensor
    public var trainable: Bool

    public init(_ value: Tensor, trainable: Bool = true) {
        self.value = value
        self.grad = Tensor(zeros: value.shape)
        self.trainable = trainable
    }

    public func zeroGrad() { grad.fill(0) }
}

/// How a forward pass runs.
public struct ForwardMode: Sendable {
    /// Batch statistics, dropout and other training-only behaviour.
    public var training: Bool
    /// Whether to keep what the backward pass needs. Off for inference and for a frozen prefix.
    public var keepForBackward: Bool
    /// Whether the caller will ask backward for dL/dx (so even a frozen first layer must keep its inputs).
    public var inputGradient: Bool

    public init(training: Bool, keepForBackward: Bool? = nil, inputGradient: Bool = false) {
        self.training = training
        self.keepForBackward = keepForBackward ?? training
        self.inputGradient = inputGradient
    }

    public static let inference = ForwardMode(training: false, keepForBackward: false)
    public static let training = ForwardMode(training: true, keepForBackward: true)
}

/// A differentiable layer. Forward and backward live side by side in each conforming type.
public protocol Layer: AnyObject {
    /// Parameters and persistent buffers (e.g. running statistics) by their PyTorch-style local names.
    var namedParameters: [(String, Parameter)] { get }
    var namedBuffers: [(String, Tensor)] { get }

    func forward(_ x: Tensor, mode: ForwardMode) -> Tensor
    /// Accumulates gradients of trainable parameters; returns dL/dx only when `needInputGradient`.
    func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor?
    /// Direct children of a container (empty for a leaf), for walks such as "every BatchNorm".
    var sublayers: [Layer] { get }
}

/// A layer that draws random numbers in training (dropout, stochastic depth). Its generator is part of a
/// run's state: a resumed run restores it so that it draws what the uninterrupted run would have drawn.
public protocol Stochastic: AnyObject {
    var generator: SeededGenerator { get set }
    /// Runs as at inference even in training mode (drawing nothing): set for frozen groups, which train
    /// nothing and act as a fixed feature extractor — Keras's trainable=False, as BatchNorm's
    /// `usesRunningStatistics` is.
    var passesThrough: Bool { get set }
}

extension Layer {
    public var namedBuffers: [(String, Tensor)] { [] }
    public var sublayers: [Layer] { [] }
    /// This layer and every layer inside it, depth first, in a fixed order.
    public var descendants: [Layer] { [self] + sublayers.flatMap(\.descendants) }
    public var parameters: [Parameter] { namedParameters.map(\.1) }
    public var hasTrainableParameters: Bool { namedParameters.contains { $0.1.trainable } }
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.1.value.count } }

    /// Sets `trainable` on every parameter.
    public func setTrainable(_ on: Bool) { for p in parameters { p.trainable = on } }
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Inference-mode forward.
    public func callAsFunction(_ x: Tensor) -> Tensor { forward(x, mode: .inference) }
}

/// Names child entries "prefix.name", as PyTorch's state_dict does.
func prefixed<T>(_ prefix: String, _ items: [(String, T)]) -> [(String, T)] {
    items.map { (prefix.isEmpty ? $0.0 : prefix + "." + $0.0, $0.1) }
}

/// The tensor a layer cached in forward, or a clear failure when backward runs without it.
@inline(__always) func cached<T>(_ value: T?, _ layer: String) -> T {
    guard let value else { preconditionFailure("\(layer).backward called without a forward that kept its inputs (each backward consumes what its forward kept)") }
    return value
}
