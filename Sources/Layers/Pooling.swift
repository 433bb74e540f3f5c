import Kernels

/// Max pooling over NCHW.
public final class MaxPool2d: Layer {
    public let kernel, stride: Int
    public let padding: Padding
    private var geometry: ConvGeometry?
    private var argmax: UnsafeMutableBufferPointer<Int32>?

    public init(kernel: Int, stride: Int? = nil, padding: Padding = .explicit(0, 0)) {
        self.kernel = kernel; self.stride = stride ?? kernel; self.padding = padding
    }
    deinit { argmax?.deallocate() }
    public var namedParameters: [(String, Parameter)] { [] }

    func geometry(for s: [Int]) -> ConvGeometry {
        ConvGeometry(batch: s[0], inChannels: s[1], height: s[2], width: s[3], outChannels: s[1],
                     kernel: (kernel, kernel), stride: (stride, stride), padding: padding, groups: s[1])
    }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous(), g = geometry(for: x.shape)
        let y = Tensor(uninitialized: g.outShape)
        if argmax == nil || argmax!.count < y.count {
            argmax?.deallocate(); argmax = .allocate(capacity: y.count)
        }
        Pooling.maxForward(g, x: x.data, y: y.data, argmax: argmax!.baseAddress!)
        geometry = g
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        let g = cached(geometry, "MaxPool2d"), dy = dy.contiguous()
        let dx = Tensor(uninitialized: g.inShape)
        Pooling.maxBackward(g, dy: dy.data, argmax: argmax!.baseAddress!, dx: dx.data)
        return dx
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
