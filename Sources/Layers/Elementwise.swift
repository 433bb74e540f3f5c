import Kernels

/// An activation function as a layer.
public final class ActivationLayer: Layer {
    public let function: Activation
    private var input: Tensor?
    /// Set instead of `input` when the preceding batch norm applied this activation itself (`fused`).
    private var output: Tensor?

    public init(_ function: Activation) { self.function = function }
    public var namedParameters: [(String, Parameter)] { [] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous()
        let y = Tensor(uninitialized: x.shape)
        function.forward(x.data, y.data, count: x.count)
        input = mode.keepForBackward ? x : nil
        output = nil
        return y
    }

    /// The output a fused forward kept, with the clamp it applied: what batch norm's backward needs to
    /// apply this activation's mask itself.
    var fusedOutput: (output: Tensor, clamp: Activation.Clamp)? {
        guard let output, let clamp = Activation.Clamp(function) else { return nil }
        return (output, clamp)
    }

    /// The forward ran inside the layer before (batch norm → ReLU / ReLU6) and produced `y`: backward reads
    /// the derivative off the output.
    func fused(output y: Tensor, mode: ForwardMode) {
        input = nil
        output = mode.keepForBackward ? y : nil
    }

    /// Batch norm's backward applied the fused mask: the kept output is no longer needed.
    func releaseFusedOutput() { output = nil }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        defer { input = nil; output = nil }
        guard needInputGradient else { return nil }
        let dy = dy.contiguous()
        if let y = output, let clamp = Activation.Clamp(function) {
            let dx = Tensor(uninitialized: y.shape)
            Activation.backward(clamp: clamp, y: y.data, dy: dy.data, dx: dx.data, count: y.count)
            return dx
        }
        let x = cached(input, "Activation(\(function))")
        let dx = Tensor(uninitialized: x.shape)
        function.backward(x: x.data, dy: dy.data, dx: dx.data, count: x.count)
        return dx
    }
}

/// Inverted dropout: in training, zeroes each value with probability p and scales survivors by 1/(1−p).
public final class Dropout: Layer, Stochastic {
    public let probability: Float
    public var generator: SeededGenerator
    public var passesThrough = false
    private var mask: Tensor?

    public init(_ probability: Float, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }

    public var namedParameters: [(String, Parameter)] { [] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        guard mode.training && !passesThrough && probability > 0 else { mask = nil; return x }
        let x = x.contiguous()
        let m = Tensor(uninitialized: x.shape), y = Tensor(uninitialized: x.shape)
        let keep = 1 / (1 - probability)
        for i in 0..<x.count {
            let k: Float = generator.nextFloat() >= probability ? keep : 0
            m.data[i] = k; y.data[i] = x.data[i] * k
        }
        mask = m
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        defer { mask = nil }
        guard needInputGradient else { return nil }
        guard let mask else { return dy }
        let dy = dy.contiguous(), dx = Tensor(uninitialized: dy.shape)
        for i in 0..<dy.count { dx.data[i] = dy.data[i] * mask.data[i] }
        return dx
    }
}

/// Softmax over the last dimension.
public final class Softmax: Layer {
    private var output: Tensor?
    public init() {}
    public var namedParameters: [(String, Parameter)] { [] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous(), w = x.shape.last!
        let y = Tensor(uninitialized: x.shape)
        SoftmaxKernel.forward(x: x.data, rows: x.count / w, width: w, y: y.data)
        output = mode.keepForBackward ? y : nil
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        defer { output = nil }
        guard needInputGradient else { return nil }
        let y = cached(output, "Softmax"), dy = dy.contiguous(), w = y.shape.last!
        let dx = Tensor(uninitialized: y.shape)
        SoftmaxKernel.backward(y: y.data, dy: dy.data, rows: y.count / w, width: w, dx: dx.data)
        return dx
    }
}
