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
        let p = Tensor(uninitialized: [s[0], s[1], 1, 1])
        Pooling.globalAvgForward(planes: s[0] * s[1], planeSize: plane, x: x.data, y: p.data)
        let r = reduce.forward(p, mode: mode)
        let h = Tensor(uninitialized: r.shape)
        activation.forward(r.data, h.data, count: r.count)
        let e = expand.forward(h, mode: mode)
        let g = Tensor(uninitialized: e.shape)
        Activation.sigmoid.forward(e.data, g.data, count: e.count)
        let y = Tensor(uninitialized: s)
        Parallel.forEach(s[0] * s[1], grain: 8) { rg in
            for i in rg { let gv = g.data[i], src = x.data + i * plane, dst = y.data + i * plane; for q in 0..<plane { dst[q] = src[q] * gv } }
        }
        if mode.keepForBackward { input = x; pooled = r; gate = g } else { input = nil; pooled = nil; gate = nil }
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        defer { input = nil; pooled = nil; gate = nil }
        let x = cached(input, "SqueezeExcitation"), g = gate!, dy = dy.contiguous()
        let s = x.shape, plane = s[2] * s[3], planes = s[0] * s[1]
        // d gate = Σ_hw dy·x; through the sigmoid and the two convs back to the pooled means.
        let dGate = Tensor(uninitialized: g.shape)
        for i in 0..<planes {
            var acc: Float = 0; let a = dy.data + i * plane, b = x.data + i * plane
            for q in 0..<plane { acc += a[q] * b[q] }
            dGate.data[i] = acc * g.data[i] * (1 - g.data[i])
        }
        let dh = expand.backward(dGate, needInputGradient: true)!
        let dr = Tensor(uninitialized: dh.shape)
        activation.backward(x: pooled!.data, dy: dh.data, dx: dr.data, count: dr.count)
        let dp = reduce.backward(dr, needInputGradient: needInputGradient)
        guard needInputGradient, let dp else { return nil }
        let dx = Tensor(uninitialized: s)
        let inv = 1 / Float(plane)
        Parallel.forEach(planes, grain: 8) { rg in
            for i in rg {
                let gv = g.data[i], m = dp.data[i] * inv, src = dy.data + i * plane, dst = dx.data + i * plane
                for q in 0..<plane { dst[q] = src[q] * gv + m }
            }
        }
        return dx
    }
}
