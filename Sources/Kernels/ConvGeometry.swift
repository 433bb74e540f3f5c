/// How a convolution or pooling window is padded.
public enum Padding: Equatable, Codable, Sendable {
    /// The same number of zeros on both sides: (rows, columns).
    case explicit(Int, Int)
    /// TensorFlow "SAME": output = ceil(input / stride); when the total is odd the extra row/column goes
    /// at the bottom/right, which makes stride-2 padding asymmetric.
    case same
}

/// Every size a 2-D convolution needs, resolved once.
public struct ConvGeometry: Equatable, Sendable {
    public var batch, inChannels, height, width: Int
    public var outChannels, kernelH, kernelW: Int
    public var strideH, strideW, dilationH, dilationW, groups: Int
    public var padTop, padLeft, padBottom, padRight: Int
    public var outH, outW: Int

    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int,
                kernel: (Int, Int), stride: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                padding: Padding = .explicit(0, 0), groups: Int = 1) {
        require(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0,
                     "channels \(inChannels)→\(outChannels) are not divisible by groups \(groups)")
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; kernelH = kernel.0; kernelW = kernel.1
        strideH = stride.0; strideW = stride.1; dilationH = dilation.0; dilationW = dilation.1; self.groups = groups
        let effH = dilationH * (kernelH - 1) + 1, effW = dilationW * (kernelW - 1) + 1
        switch padding {
        case let .explicit(ph, pw):
            padTop = ph; padBottom = ph; padLeft = pw; padRight = pw
        case .same:
            let oh = (height + strideH - 1) / strideH, ow = (width + strideW - 1) / strideW
            let th = max((oh - 1) * strideH + effH - height, 0), tw = max((ow - 1) * strideW + effW - width, 0)
            padTop = th / 2; padBottom = th - th / 2; padLeft = tw / 2; padRight = tw - tw / 2
        }
        outH = (height + padTop + padBottom - effH) / strideH + 1
        outW = (width + padLeft + padRight - effW) / strideW + 1
        require(outH > 0 && outW > 0, "a \(kernelH)×\(kernelW) window does not fit a \(height)×\(width) input")
    }

    public var inShape: [Int] { [batch, inChannels, height, width] }
    public var outShape: [Int] { [batch, outChannels, outH, outW] }
    public var weightShape: [Int] { [outChannels, inChannels / groups, kernelH, kernelW] }
    public var isDepthwise: Bool { groups == inChannels && groups == outChannels && groups > 1 }
    public var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
    /// Multiply-adds × 2.
    public var flops: Double {
        2 * Double(batch * outChannels * outH * outW) * Double(inChannels / groups * kernelH * kernelW)
    }

    /// Output columns `ow` whose input column `ow·stride − padLeft + j·dilation` lies inside the image.
    @inline(__always) func validColumns(_ j: Int) -> Range<Int> {
        validRange(offset: j * dilationW - padLeft, stride: strideW, size: width, count: outW)
    }

    @inline(__always) func validRows(_ i: Int) -> Range<Int> {
        validRange(offset: i * dilationH - padTop, stride: strideH, size: height, count: outH)
    }
}

/// Indices o in 0..<count with 0 ≤ o·stride + offset < size.
@inline(__always) func validRange(offset: Int, stride: Int, size: Int, count: Int) -> Range<Int> {
    // ceil((-offset) / stride) and floor((size - 1 - offset) / stride), for any sign.
    let lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride
    let hiInclusive = size - 1 - offset
    if hiInclusive < 0 { return 0..<0 }
    let hi = min(count, hiInclusive / stride + 1)
    return lo < hi ? lo..<hi : 0..<0
}
