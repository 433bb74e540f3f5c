import Kernels

/// Layers applied one after another, named like PyTorch's nn.Sequential children.
///
/// Backward stops at the first layer that has trainable parameters (unless the caller needs dL/dx), so a
/// frozen prefix costs one forward pass and nothing else; forward does not keep activations for that prefix.
public final class Sequential: Layer {
    public private(set) var children: [(String, Layer)]

    public init(_ named: [(String, Layer)]) { children = named }
    public convenience init(_ layers: [Layer]) { self.init(layers.enumerated().map { (String($0.offset), $0.element) }) }

    public var layers: [Layer] { children.map(\.1) }
    public var sublayers: [Layer] { layers }
    public func append(_ name: String, _ layer: Layer) { children.append((name, layer)) }

    public var namedParameters: [(String, Parameter)] { children.flatMap { prefixed($0.0, $0.1.namedParameters) } }
    public var namedBuffers: [(String, Tensor)] { children.flatMap { prefixed($0.0, $0.1.namedBuffers) } }

    /// Index of the first child with a trainable parameter, or nil.
    public var firstTrainableIndex: Int? { children.firstIndex { $0.1.hasTrainableParameters } }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        var h = x
        let first = firstTrainableIndex ?? children.count
        func childMode(_ i: Int) -> ForwardMode {
            // Layers before the first trainable one are never back-propagated through: keep nothing.
            let reached = mode.inputGradient || i >= first
            return ForwardMode(training: mode.training, keepForBackward: mode.keepForBackward && reached,
                               inputGradient: mode.inputGradient || i > first)
        }
        // conv → batch norm on running statistics [→ activation] at child i, with nothing kept for backward:
        // the layers and how many children they take.
        func foldable(_ i: Int) -> (conv: Conv2d, bn: BatchNorm, activation: Activation, used: Int)? {
            guard i + 1 < children.count, let conv = children[i].1 as? Conv2d, let bn = children[i + 1].1 as? BatchNorm,
                  !childMode(i).keepForBackward, !childMode(i + 1).keepForBackward, bn.usesRunningStatistics(in: mode) else { return nil }
            if i + 2 < children.count, let a = children[i + 2].1 as? ActivationLayer, !childMode(i + 2).keepForBackward {
                return (conv, bn, a.function, 3)
            }
            return (conv, bn, .identity, 2)
        }
        var i = 0
        while i < children.count {
            // Squeeze-excitation → a folding convolution (EfficientNet-B0's gate before its project conv): the
            // gate goes to the convolution as input scales, which scales its weights per image instead of x.
            if let se = children[i].1 as? SqueezeExcitation, !childMode(i).keepForBackward,
               let f = foldable(i + 1), f.conv.groups == 1 {
                h = f.conv.forwardFolding(f.bn, activation: f.activation, h, inputScales: se.inferenceGate(h, mode: childMode(i)))
                i += 1 + f.used
                continue
            }
            // A folded pointwise conv feeding a folded depthwise conv (MBConv's expand → depthwise) runs fused
            // per channel group; any other folding conv as one folded convolution.
            if let f = foldable(i) {
                if let d = foldable(i + f.used),
                   let y = f.conv.forwardFolding(f.bn, activation: f.activation, thenDepthwise: d.conv, d.bn, activation: d.activation, h) {
                    h = y
                    i += f.used + d.used
                    continue
                }
                h = f.conv.forwardFolding(f.bn, activation: f.activation, h)
                i += f.used
                continue
            }
            // batch norm or a residual sum → ReLU / ReLU6 otherwise (training): the clamp applied as the first
            // writes its output, which the activation's backward reads its derivative from.
            if i + 1 < children.count, let fusable = children[i].1 as? ClampFusable, let a = children[i + 1].1 as? ActivationLayer,
               let clamp = Activation.Clamp(a.function) {
                h = fusable.forward(h, mode: childMode(i), clamp: clamp)
                a.fused(output: h, mode: childMode(i + 1))
                i += 2
                continue
            }
            // activation → linear in training: the linear keeps the activation's input (which the activation
            // keeps anyway) instead of its output, and recomputes the output in backward.
            if i + 1 < children.count, let a = children[i].1 as? ActivationLayer, let linear = children[i + 1].1 as? Linear,
               a.function != .identity, childMode(i).keepForBackward, childMode(i + 1).keepForBackward {
                let pre = h.contiguous()   // one copy, kept by both
                h = linear.forward(a.forward(pre, mode: childMode(i)), mode: childMode(i + 1), recomputableFrom: pre, activation: a.function)
                i += 2
                continue
            }
            h = children[i].1.forward(h, mode: childMode(i))
            i += 1
        }
        return h
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        let first = firstTrainableIndex
        var g: Tensor? = dy
        var i = children.count - 1
        while i >= 0 {
            let needsInput = needInputGradient || (first.map { $0 < i } ?? false)
            if !needsInput && !children[i].1.hasTrainableParameters { return nil }
            // A batch norm → ReLU / ReLU6 pair fused in forward: the mask is applied inside batch norm's
            // backward, so the activation's own gradient tensor is never written.
            if i > 0, let a = children[i].1 as? ActivationLayer, let fused = a.fusedOutput, let bn = children[i - 1].1 as? BatchNorm {
                let bnNeedsInput = needInputGradient || (first.map { $0 < i - 1 } ?? false)
                if !bnNeedsInput && !bn.hasTrainableParameters { return nil }
                g = bn.backward(g!, needInputGradient: bnNeedsInput, through: fused)
                a.releaseFusedOutput()
                if g == nil { return nil }
                i -= 2
                continue
            }
            g = children[i].1.backward(g!, needInputGradient: needsInput)
            if g == nil { return nil }
            i -= 1
        }
        return g
    }
}

/// A layer that can apply a following ReLU / ReLU6 as it writes its output (batch norm, a residual sum).
protocol ClampFusable: Layer {
    func forward(_ x: Tensor, mode: ForwardMode, clamp: Activation.Clamp) -> Tensor
}

/// y = body(x) + shortcut(x), the shortcut being the identity when absent.
public final class Residual: Layer, ClampFusable {
    public let body: Layer
    public let shortcut: Layer?
    public let bodyName: String, shortcutName: String

    public init(_ body: Layer, shortcut: Layer? = nil, bodyName: String = "", shortcutName: String = "shortcut") {
        self.body = body; self.shortcut = shortcut; self.bodyName = bodyName; self.shortcutName = shortcutName
    }
    public var sublayers: [Layer] { [body] + (shortcut.map { [$0] } ?? []) }

    public var namedParameters: [(String, Parameter)] {
        prefixed(bodyName, body.namedParameters) + (shortcut.map { prefixed(shortcutName, $0.namedParameters) } ?? [])
    }
    public var namedBuffers: [(String, Tensor)] {
        prefixed(bodyName, body.namedBuffers) + (shortcut.map { prefixed(shortcutName, $0.namedBuffers) } ?? [])
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor { forward(x, mode: mode, clamp: .none) }

    /// The sum with a ReLU / ReLU6 applied as it is written (`Sequential` fuses residual → activation): the
    /// pre-activation sum is never stored, one tensor per block less (ResNet-50 train step: peak RSS 4463 → 3801 MB).
    func forward(_ x: Tensor, mode: ForwardMode, clamp: Activation.Clamp) -> Tensor {
        let y = body.forward(x, mode: mode).contiguous()
        let s = (shortcut?.forward(x, mode: mode) ?? x).contiguous()
        precondition(y.shape == s.shape, "residual branch \(y.shape) and shortcut \(s.shape) differ")
        let out = Tensor(uninitialized: y.shape)
        addElementwise(y.data, s.data, out.data, count: y.count, clamp: clamp)
        return out
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        let dBody = body.backward(dy, needInputGradient: needInputGradient)
        let dShort: Tensor? = shortcut.map { $0.backward(dy, needInputGradient: needInputGradient) } ?? dy
        guard needInputGradient, let a = dBody?.contiguous(), let b = dShort?.contiguous() else { return nil }
        let dx = Tensor(uninitialized: a.shape)
        addElementwise(a.data, b.data, dx.data, count: a.count)
        return dx
    }
}

/// Runs branches on the same input and concatenates their outputs along `dim` (channels by default).
public final class Concat: Layer {
    public let branches: [(String, Layer)]
    public let dim: Int
    private var sizes: [Int] = []

    public init(_ branches: [(String, Layer)], dim: Int = 1) {
        self.branches = branches; self.dim = dim
    }
    public var sublayers: [Layer] { branches.map(\.1) }

    public var namedParameters: [(String, Parameter)] { branches.flatMap { prefixed($0.0, $0.1.namedParameters) } }
    public var namedBuffers: [(String, Tensor)] { branches.flatMap { prefixed($0.0, $0.1.namedBuffers) } }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let outs = branches.map { $0.1.forward(x, mode: mode) }
        sizes = outs.map { $0.shape[dim] }
        return concatenate(outs, dim: dim)
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        var start = 0, dx: Tensor?
        for (i, (_, branch)) in branches.enumerated() {
            let part = dy.slice(dim: dim, start..<start + sizes[i]).contiguous()
            start += sizes[i]
            guard let g = branch.backward(part, needInputGradient: needInputGradient)?.contiguous() else { continue }
            if let acc = dx { accumulate(g.data, into: acc.data, count: g.count) } else { dx = g.copy() }
        }
        return needInputGradient ? dx : nil
    }
}

/// Joins tensors of equal shape except along `dim`.
public func concatenate(_ parts: [Tensor], dim: Int) -> Tensor {
    precondition(!parts.isEmpty, "nothing to concatenate")
    var shape = parts[0].shape
    shape[dim] = parts.reduce(0) { $0 + $1.shape[dim] }
    let out = Tensor(uninitialized: shape)
    let outer = shape[..<dim].reduce(1, *), inner = shape[(dim + 1)...].reduce(1, *)
    var offset = 0
    for p in parts {
        let p = p.contiguous(), span = p.shape[dim] * inner
        for o in 0..<outer {
            (out.data + o * shape[dim] * inner + offset).update(from: p.data + o * span, count: span)
        }
        offset += span
    }
    return out
}

/// [N, …] → [N] + shape (one entry may be −1).
public final class Reshape: Layer {
    public let shape: [Int]
    private var inShape: [Int]?
    public init(_ shape: [Int]) { self.shape = shape }
    public var namedParameters: [(String, Parameter)] { [] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        inShape = x.shape
        return x.contiguous().reshaped([x.shape[0]] + shape)
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        needInputGradient ? dy.contiguous().reshaped(cached(inShape, "Reshape")) : nil
    }
}

/// [N, C, H, W] → [N, C·H·W].
public final class Flatten: Layer {
    private let reshape = Reshape([-1])
    public init() {}
    public var namedParameters: [(String, Parameter)] { [] }
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor { reshape.forward(x, mode: mode) }
    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? { reshape.backward(dy, needInputGradient: needInputGradient) }
}

/// Reorders dimensions (all of them, batch included) and makes the result dense.
public final class Permute: Layer {
    public let order: [Int]
    public init(_ order: [Int]) { self.order = order }
    public var namedParameters: [(String, Parameter)] { [] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor { x.permuted(order).contiguous() }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return dy.permuted(inverse).contiguous()
    }
}
