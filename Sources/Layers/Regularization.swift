import Kernels

/// Stochastic depth ("drop connect"): in training, zeroes each sample's whole residual branch with
/// probability p and scales the kept ones by 1/(1−p); the identity at inference.
public final class DropPath: Layer, Stochastic {
    public let probability: Float
    public var generator: SeededGenerator
    public var passesThrough = false
    private var sampleScale: [Float]?

    public init(_ probability: Float, seed: UInt64 = 0) {
        self.probability = probability
        generator = SeededGenerator(seed: seed)
    }
    public var namedParameters: [(String, Parameter)] { [] }

    // x[N, …] → y, same shape
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        guard mode.training && !passesThrough && probability > 0 else { sampleScale = nil; return x }
        let x = x.contiguous(), n = x.shape[0], per = x.count / max(n, 1)
        let keep = 1 - probability
        let scales = (0..<n).map { _ in generator.nextFloat() < keep ? 1 / keep : Float(0) }
        let y = Tensor(uninitialized: x.shape)
        for i in 0..<n { let s = scales[i], src = x.data + i * per, dst = y.data + i * per; for q in 0..<per { dst[q] = src[q] * s } }
        sampleScale = scales
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        guard let scales = sampleScale else { return dy }
        let dy = dy.contiguous(), n = dy.shape[0], per = dy.count / max(n, 1)
        let dx = Tensor(uninitialized: dy.shape)
        for i in 0..<n { let s = scales[i], src = dy.data + i * per, dst = dx.data + i * per; for q in 0..<per { dst[q] = src[q] * s } }
        return dx
    }
}

/// Squeeze-and-excitation: x · sigmoid(expand(act(reduce(mean_hw(x))))), with 1×1 convs that have biases.
public final class SqueezeExcitation: Layer {
    public let reduce: Conv2d, expand: Conv2d
    public let activation: Activation
    public let names: (reduce: String, expand: String)
    private var input: Tensor?, pooled: Tensor?, gate: Tensor?

    public init(channels: Int, squeezed: Int, activation: Activation, names: (reduce: String, expand: String),
                generator: inout SeededGenerator) {
        reduce = Conv2d(channels, squeezed, kernel: 1, generator: &generator)
        expand = Conv2d(squeezed, channels, kernel: 1, generator: &generator)
        self.activation = activation; self.names = names
    }
    public var sublayers: [Layer] { [reduce, expand] }

    public var namedParameters: [(String, Parameter)] {
        prefixed(names.reduce, reduce.namedParameters) + prefixed(names.expand, expand.namedParameters)
    }

    // x[N, C, H, W] → y, same shape
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous(), s = x.shape, plane = s[2] * s[3]
        let (r, g) = gates(x, mode: mode)
        let y = Tensor(uninitialized: s)
        scalePlanes(x.data, by: g.data, into: y.data, planes: s[0] * s[1], plane: plane)
        if mode.keepForBackward { input = x; pooled = r; gate = g } else { input = nil; pooled = nil; gate = nil }
        return y
    }

    /// The gate, sigmoid(expand(act(reduce(mean_hw(x))))) as [N, C, 1, 1], and reduce's output it came
    /// through. Inference asks for the gate alone when the next layer can take it as input scales
    /// (`Sequential` hands it to a folded pointwise convolution, which scales its weights instead of x).
    func gates(_ x: Tensor, mode: ForwardMode) -> (reduced: Tensor, gate: Tensor) {
        let s = x.shape
        let p = Tensor(uninitialized: [s[0], s[1], 1, 1])
        Pooling.globalAvgForward(planes: s[0] * s[1], planeSize: s[2] * s[3], x: x.data, y: p.data)
        let r = reduce.forward(p, mode: mode)
        let h = Tensor(uninitialized: r.shape)
        activation.forward(r.data, h.data, count: r.count)
        let e = expand.forward(h, mode: mode)
        let g = Tensor(uninitialized: e.shape)
        Activation.sigmoid.forward(e.data, g.data, count: e.count)
        return (r, g)
    }

    /// Inference: the gate alone, [N, C], for a following convolution to apply; nothing kept.
    public func inferenceGate(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous()
        input = nil; pooled = nil; gate = nil
        return gates(x, mode: mode).gate.reshaped([x.shape[0], x.shape[1]])
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        defer { input = nil; pooled = nil; gate = nil }
        let x = cached(input, "SqueezeExcitation"), g = gate!, dy = dy.contiguous()
        let s = x.shape, plane = s[2] * s[3], planes = s[0] * s[1]
        // d gate = Σ_hw dy·x; through the sigmoid and the two convs back to the pooled means.
        let dGate = Tensor(uninitialized: g.shape)
        Parallel.forEach(planes, grain: max(1, (1 << 14) / max(plane, 1))) { rg in
            for i in rg { dGate.data[i] = Reduce.dot(dy.data + i * plane, x.data + i * plane, count: plane) * g.data[i] * (1 - g.data[i]) }
        }
        let dh = expand.backward(dGate, needInputGradient: true)!
        let dr = Tensor(uninitialized: dh.shape)
        activation.backward(x: pooled!.data, dy: dh.data, dx: dr.data, count: dr.count)
        let dp = reduce.backward(dr, needInputGradient: needInputGradient)
        guard needInputGradient, let dp else { return nil }
        let dx = Tensor(uninitialized: s)
        let inv = 1 / Float(plane)
        let means = Tensor(uninitialized: dp.shape)
        for i in 0..<planes { means.data[i] = dp.data[i] * inv }
        scalePlanes(dy.data, by: g.data, plus: means.data, into: dx.data, planes: planes, plane: plane)
        return dx
    }
}
