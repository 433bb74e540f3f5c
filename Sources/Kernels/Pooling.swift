/// Pooling over NCHW tensors. Window geometry reuses `ConvGeometry` with in = out channels.
public enum Pooling {
    /// Max pooling; padding counts as −∞ (as in PyTorch). `argmax` receives, per output, the flat index of the
    /// winning input pixel within its plane (for the backward pass).
    public static func maxForward(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                  argmax: UnsafeMutablePointer<Int32>) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width
        if isPairwise(g) { maxForwardPairwise(g, x: x, y: y, argmax: argmax); return }
        Parallel.forEach(g.batch * g.inChannels, grain: 4) { r in
            for item in r {
                let xp = x + item * inPlane, yp = y + item * hw, ap = argmax + item * hw
                for oh in 0..<g.outH {
                    for ow in 0..<g.outW {
                        var best = -Float.infinity, at: Int32 = -1
                        for i in 0..<g.kernelH {
                            let ih = oh * g.strideH - g.padTop + i * g.dilationH
                            if ih < 0 || ih >= g.height { continue }
                            for j in 0..<g.kernelW {
                                let iw = ow * g.strideW - g.padLeft + j * g.dilationW
                                if iw < 0 || iw >= g.width { continue }
                                let v = xp[ih * g.width + iw]
                                // NaN wins, as in PyTorch, so that a broken input is never silently hidden.
                                if v > best || v.isNaN { best = v; at = Int32(ih * g.width + iw); if v.isNaN { break } }
                            }
                        }
                        yp[oh * g.outW + ow] = best; ap[oh * g.outW + ow] = at
                    }
                }
            }
        }
    }

    /// 2×2 windows at stride 2 without padding or dilation (VGG's pools).
    static func isPairwise(_ g: ConvGeometry) -> Bool {
        g.kernelH == 2 && g.kernelW == 2 && g.strideH == 2 && g.strideW == 2 && g.dilationH == 1 && g.dilationW == 1
            && g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0
    }

    /// The 2×2/2 windows, 16 outputs at a time: the same scan as the general loop (taps in row order, the
    /// first strict maximum wins, the first NaN wins and ends the scan, an all −∞ window keeps argmax −1),
    /// written as lane selects over the even and odd columns of the window's two rows.
    static func maxForwardPairwise(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                   argmax: UnsafeMutablePointer<Int32>) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width, width = g.width
        let lanes = SIMD16<Int32>(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
        Parallel.forEach(g.batch * g.inChannels, grain: 4) { r in
            for item in r {
                let xp = x + item * inPlane, yp = y + item * hw, ap = argmax + item * hw
                for oh in 0..<g.outH {
                    let top = xp + 2 * oh * width, bottom = top + width
                    let yRow = yp + oh * g.outW, aRow = ap + oh * g.outW
                    var ow = 0
                    while ow + 16 <= g.outW {
                        let t = UnsafeRawPointer(top + 2 * ow).loadUnaligned(as: SIMD32<Float>.self)
                        let b = UnsafeRawPointer(bottom + 2 * ow).loadUnaligned(as: SIMD32<Float>.self)
                        let first = SIMD16<Int32>(repeating: Int32(2 * oh * width + 2 * ow)) &+ lanes
                        var best = SIMD16<Float>(repeating: -.infinity), at = SIMD16<Int32>(repeating: -1)
                        var done = SIMDMask<SIMD16<Int32>>()
                        @inline(__always) func scan(_ v: SIMD16<Float>, _ index: SIMD16<Int32>) {
                            let isNaN = v .!= v
                            let take = .!done .& ((v .> best) .| isNaN)
                            best.replace(with: v, where: take)
                            at.replace(with: index, where: take)
                            done = done .| isNaN
                        }
                        scan(t.evenHalf, first); scan(t.oddHalf, first &+ 1)
                        scan(b.evenHalf, first &+ Int32(width)); scan(b.oddHalf, first &+ Int32(width + 1))
                        UnsafeMutableRawPointer(yRow + ow).storeBytes(of: best, as: SIMD16<Float>.self)
                        UnsafeMutableRawPointer(aRow + ow).storeBytes(of: at, as: SIMD16<Int32>.self)
                        ow += 16
                    }
                    while ow < g.outW {
                        var best = -Float.infinity, at: Int32 = -1, done = false
                        @inline(__always) func scan(_ index: Int) {
                            let v = xp[index]
                            if !done && (v > best || v.isNaN) { best = v; at = Int32(index); done = v.isNaN }
                        }
                        let corner = 2 * oh * width + 2 * ow
                        scan(corner); scan(corner + 1); scan(corner + width); scan(corner + width + 1)
                        yRow[ow] = best; aRow[ow] = at
                        ow += 1
                    }
                }
            }
        }
    }

    /// dx = scatter of dy to the argmax positions.
    public static func maxBackward(_ g: ConvGeometry, dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
                                   dx: UnsafeMutablePointer<Float>) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width
        Parallel.forEach(g.batch * g.inChannels, grain: 4) { r in
            for item in r {
                let dxp = dx + item * inPlane, dyp = dy + item * hw, ap = argmax + item * hw
                dxp.update(repeating: 0, count: inPlane)
                for o in 0..<hw where ap[o] >= 0 { dxp[Int(ap[o])] += dyp[o] }
            }
        }
    }

    /// Number of input pixels averaged into output (oh, ow).
    @inline(__always) static func divisor(_ g: ConvGeometry, _ oh: Int, _ ow: Int, countIncludePad: Bool) -> Float {
        if countIncludePad { return Float(g.kernelH * g.kernelW) }
        let h0 = oh * g.strideH - g.padTop, w0 = ow * g.strideW - g.padLeft
        let rows = max(0, min(h0 + g.kernelH, g.height) - max(h0, 0))
        let cols = max(0, min(w0 + g.kernelW, g.width) - max(w0, 0))
        return Float(max(rows * cols, 1))
    }

    /// Average pooling (no dilation). PyTorch counts padding in the divisor by default; TensorFlow does not.
    public static func avgForward(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                  countIncludePad: Bool = true) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width
        Parallel.forEach(g.batch * g.inChannels, grain: 4) { r in
            for item in r {
                let xp = x + item * inPlane, yp = y + item * hw
                for oh in 0..<g.outH {
                    for ow in 0..<g.outW {
                        var s: Float = 0
                        for i in 0..<g.kernelH {
                            let ih = oh * g.strideH - g.padTop + i
                            if ih < 0 || ih >= g.height { continue }
                            for j in 0..<g.kernelW {
                                let iw = ow * g.strideW - g.padLeft + j
                                if iw >= 0 && iw < g.width { s += xp[ih * g.width + iw] }
                            }
                        }
                        yp[oh * g.outW + ow] = s / divisor(g, oh, ow, countIncludePad: countIncludePad)
                    }
                }
            }
        }
    }

    public static func avgBackward(_ g: ConvGeometry, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                                   countIncludePad: Bool = true) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width
        Parallel.forEach(g.batch * g.inChannels, grain: 4) { r in
            for item in r {
                let dxp = dx + item * inPlane, dyp = dy + item * hw
                dxp.update(repeating: 0, count: inPlane)
                for oh in 0..<g.outH {
                    for ow in 0..<g.outW {
                        let v = dyp[oh * g.outW + ow] / divisor(g, oh, ow, countIncludePad: countIncludePad)
                        for i in 0..<g.kernelH {
                            let ih = oh * g.strideH - g.padTop + i
                            if ih < 0 || ih >= g.height { continue }
                            for j in 0..<g.kernelW {
                                let iw = ow * g.strideW - g.padLeft + j
                                if iw >= 0 && iw < g.width { dxp[ih * g.width + iw] += v }
                            }
                        }
                    }
                }
            }
        }
    }

    /// y[N, C] = mean over each H×W plane of x[N, C, H, W].
    public static func globalAvgForward(planes: Int, planeSize: Int, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(planeSize)
        Parallel.forEach(planes, grain: 16) { r in
            for p in r { let xp = x + p * planeSize; var s: Float = 0; for q in 0..<planeSize { s += xp[q] }; y[p] = s * inv }
        }
    }

    public static func globalAvgBackward(planes: Int, planeSize: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(planeSize)
        Parallel.forEach(planes, grain: 16) { r in
            for p in r { (dx + p * planeSize).update(repeating: dy[p] * inv, count: planeSize) }
        }
    }
}
