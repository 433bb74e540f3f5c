/// Pooling over NCHW tensors. Window geometry reuses `ConvGeometry` with in = out channels.
public enum Pooling {
    /// Max pooling; padding counts as −∞ (as in PyTorch). `argmax` receives, per output, the flat index of the
    /// winning input pixel within its plane (for the backward pass).
    /// Every output scans its window's taps in row order: a strictly larger value wins (the first maximum on
    /// ties), a NaN wins and ends the scan (a broken input is never silently hidden, as in PyTorch), and a
    /// window of −∞ alone keeps argmax −1. Runs of 16 outputs whose windows lie inside the plane (at stride 1
    /// or 2) do the same scan as lane selects, one vector per tap; the rest go one by one.
    public static func maxForward(_ g: ConvGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                  argmax: UnsafeMutablePointer<Int32>) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width, width = g.width
        let rowsInside = intersection(g.validRows(0), g.validRows(g.kernelH - 1))
        let columnsInside = intersection(g.validColumns(0), g.validColumns(g.kernelW - 1))
        let lanes = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) &* Int32(g.strideW)
        // A run of 16 starting at ow with every tap inside the plane. At stride 2 a tap's 16 columns are the odd
        // half of the 32 floats before its first one (the even half of the 32 from it at column 0), which stay
        // within the row.
        func vectorRun(_ oh: Int, _ ow: Int) -> Bool {
            (g.strideW == 1 || (g.strideW == 2 && width >= 32)) && rowsInside.contains(oh)
                && ow >= columnsInside.lowerBound && ow + 16 <= columnsInside.upperBound
        }
        Parallel.forEach(g.batch * g.inChannels, grain: 4) { r in
            for item in r {
                let xp = x + item * inPlane, yp = y + item * hw, ap = argmax + item * hw
                for oh in 0..<g.outH {
                    var ow = 0
                    while ow < g.outW {
                        if vectorRun(oh, ow) {
                            var best = SIMD16<Float>(repeating: -.infinity), at = SIMD16<Int32>(repeating: -1)
                            var done = SIMDMask<SIMD16<Int32>>()
                            for i in 0..<g.kernelH {
                                let ih = oh * g.strideH - g.padTop + i * g.dilationH
                                for j in 0..<g.kernelW {
                                    let column = ow * g.strideW - g.padLeft + j * g.dilationW, first = ih * width + column
                                    let v = g.strideW == 1 ? load16(xp + first)
                                        : column == 0 ? load32(xp + first).evenHalf : load32(xp + first - 1).oddHalf
                                    let isNaN = v .!= v, take = .!done .& ((v .> best) .| isNaN)
                                    best.replace(with: v, where: take)
                                    at.replace(with: SIMD16<Int32>(repeating: Int32(first)) &+ lanes, where: take)
                                    done = done .| isNaN
                                }
                            }
                            store16(best, yp + oh * g.outW + ow)
                            UnsafeMutableRawPointer(ap + oh * g.outW + ow).storeBytes(of: at, as: SIMD16<Int32>.self)
                            ow += 16
                            continue
                        }
                        var best = -Float.infinity, at: Int32 = -1
                        scan: for i in 0..<g.kernelH {
                            let ih = oh * g.strideH - g.padTop + i * g.dilationH
                            if ih < 0 || ih >= g.height { continue }
                            for j in 0..<g.kernelW {
                                let iw = ow * g.strideW - g.padLeft + j * g.dilationW
                                if iw < 0 || iw >= width { continue }
                                let v = xp[ih * width + iw]
                                if v > best || v.isNaN { best = v; at = Int32(ih * width + iw); if v.isNaN { break scan } }
                            }
                        }
                        yp[oh * g.outW + ow] = best; ap[oh * g.outW + ow] = at
                        ow += 1
                    }
                }
            }
        }
    }

    static func intersection(_ a: Range<Int>, _ b: Range<Int>) -> Range<Int> {
        let lo = max(a.lowerBound, b.lowerBound), hi = min(a.upperBound, b.upperBound)
        return lo < hi ? lo..<hi : 0..<0
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
            // Vector partial sums (a serial float sum never vectorises): squeeze-excitation pools every block's
            // expanded activations through here.
            for p in r { y[p] = Reduce.sum(x + p * planeSize, count: planeSize) * inv }
        }
    }

    public static func globalAvgBackward(planes: Int, planeSize: Int, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let inv = 1 / Float(planeSize)
        Parallel.forEach(planes, grain: 16) { r in
            for p in r { (dx + p * planeSize).update(repeating: dy[p] * inv, count: planeSize) }
        }
    }
}
