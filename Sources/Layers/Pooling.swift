import Kernels

/// Max pooling over NCHW.
public final class MaxPool2d: Layer {
    public let kernel, stride: Int
    public let padding: Padding
    private var geometry: ConvGeometry?
    /// Each output's winning input index (Int32), kept for backward only; pool memory like a tensor's.
    private var argmax: TensorStorage?

    public init(kernel: Int, stride: Int? = nil, padding: Padding = .explicit(0, 0)) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    public var namedParameters: [(String, Parameter)] { [] }

    func geometry(for s: [Int]) -> ConvGeometry {
        ConvGeometry(batch: s[0], inChannels: s[1], height: s[2], width: s[3], outChannels: s[1],
                     kernel: (kernel, kernel), stride: (stride, stride), padding: padding, groups: s[1])
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous(), g = geometry(for: x.shape)
        let y = Tensor(uninitialized: g.outShape)
        let indices = TensorStorage(capacity: y.count)   // Int32 and Float are both 4 bytes
        Pooling.maxForward(g, x: x.data, y: y.data, argmax: Self.int32(indices, count: y.count))
        if mode.keepForBackward { geometry = g; argmax = indices } else { geometry = nil; argmax = nil }
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        defer { geometry = nil; argmax = nil }
        guard needInputGradient else { return nil }
        let g = cached(geometry, "MaxPool2d"), dy = dy.contiguous()
        let dx = Tensor(uninitialized: g.inShape)
        Pooling.maxBackward(g, dy: dy.data, argmax: Self.int32(argmax!, count: g.outShape.reduce(1, *)), dx: dx.data)
        return dx
    }

    private static func int32(_ s: TensorStorage, count: Int) -> UnsafeMutablePointer<Int32> {
        UnsafeMutableRawPointer(s.base).bindMemory(to: Int32.self, capacity: max(count, 1))
    }
}

/// Average pooling over NCHW.
public final class AvgPool2d: Layer {
    public let kernel, stride: Int
    public let padding: Padding
    public let countIncludePad: Bool
    private var geometry: ConvGeometry?

    public init(kernel: Int, stride: Int? = nil, padding: Padding = .explicit(0, 0), countIncludePad: Bool = true) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding; self.countIncludePad = countIncludePad
    }
    public var namedParameters: [(String, Parameter)] { [] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous(), s = x.shape
        let g = ConvGeometry(batch: s[0], inChannels: s[1], height: s[2], width: s[3], outChannels: s[1],
                             kernel: (kernel, kernel), stride: (stride, stride), padding: padding, groups: s[1])
        let y = Tensor(uninitialized: g.outShape)
        Pooling.avgForward(g, x: x.data, y: y.data, countIncludePad: countIncludePad)
        geometry = g
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        let g = cached(geometry, "AvgPool2d"), dy = dy.contiguous()
        let dx = Tensor(uninitialized: g.inShape)
        Pooling.avgBackward(g, dy: dy.data, dx: dx.data, countIncludePad: countIncludePad)
        return dx
    }
}

/// [N, C, H, W] → [N, C], the mean of each plane.
public final class GlobalAvgPool: Layer {
    private var inShape: [Int]?
    public init() {}
    public var namedParameters: [(String, Parameter)] { [] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous(), s = x.shape
        let y = Tensor(uninitialized: [s[0], s[1]])
        Pooling.globalAvgForward(planes: s[0] * s[1], planeSize: s[2] * s[3], x: x.data, y: y.data)
        inShape = s
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        let s = cached(inShape, "GlobalAvgPool"), dy = dy.contiguous()
        let dx = Tensor(uninitialized: s)
        Pooling.globalAvgBackward(planes: s[0] * s[1], planeSize: s[2] * s[3], dy: dy.data, dx: dx.data)
        return dx
    }
}

/// PyTorch's AdaptiveAvgPool2d: output cell i averages input rows ⌊i·H/out⌋ ..< ⌈(i+1)·H/out⌉ (same for columns).
public final class AdaptiveAvgPool2d: Layer {
    public let outputSize: Int
    private var inShape: [Int]?
    public init(_ outputSize: Int) { self.outputSize = outputSize }
    public var namedParameters: [(String, Parameter)] { [] }

    func bins(_ size: Int) -> [Range<Int>] {
        (0..<outputSize).map { i in (i * size / outputSize)..<(((i + 1) * size + outputSize - 1) / outputSize) }
    }

    // x[N, C, H, W] → y[N, C, out, out]
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous(), s = x.shape
        inShape = s
        if s[2] == outputSize && s[3] == outputSize { return x }
        let rows = bins(s[2]), cols = bins(s[3]), o = outputSize
        let y = Tensor(uninitialized: [s[0], s[1], o, o])
        for p in 0..<s[0] * s[1] {
            let src = x.data + p * s[2] * s[3], dst = y.data + p * o * o
            for i in 0..<o { for j in 0..<o {
                var acc: Float = 0
                for r in rows[i] { for c in cols[j] { acc += src[r * s[3] + c] } }
                dst[i * o + j] = acc / Float(rows[i].count * cols[j].count)
            } }
        }
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        let s = cached(inShape, "AdaptiveAvgPool2d"), dy = dy.contiguous()
        if s[2] == outputSize && s[3] == outputSize { return dy }
        let rows = bins(s[2]), cols = bins(s[3]), o = outputSize
        let dx = Tensor(zeros: s)
        for p in 0..<s[0] * s[1] {
            let src = dy.data + p * o * o, dst = dx.data + p * s[2] * s[3]
            for i in 0..<o { for j in 0..<o {
                let v = src[i * o + j] / Float(rows[i].count * cols[j].count)
                for r in rows[i] { for c in cols[j] { dst[r * s[3] + c] += v } }
            } }
        }
        return dx
    }
}
