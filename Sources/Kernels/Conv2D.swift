import Dispatch

/// 2-D convolution over NCHW tensors; weights are [outC, inC/groups, kH, kW] as in PyTorch.
///
/// Three paths, picked by shape: depthwise (a direct loop per channel plane), large pointwise (one GEMM per
/// image, no copy) and everything else (im2col over a chunk of images into one wide matrix, one GEMM per group,
/// so that even 7×7 feature maps give OpenBLAS a long N dimension).
public enum Conv2D {
    /// Floats of scratch (columns + staged output) one chunk may use: large enough to give GEMM wide
    /// matrices, small enough to stay out of the way of the activations.
    static let chunkBudget = 12 << 20

    static func imagesPerChunk(_ g: ConvGeometry) -> Int {
        let hw = g.outH * g.outW
        // Large maps already give GEMM a long N; one image at a time keeps the columns in cache and lets the
        // GEMM write straight into the output.
        if hw >= 1024 { return 1 }
        let perImage = (g.inChannels * g.kernelH * g.kernelW + g.outChannels) * hw
        return max(1, min(g.batch, chunkBudget / max(perImage, 1)))
    }

    static func usesDirectGEMM(_ g: ConvGeometry) -> Bool {
        g.isPointwise && g.groups == 1 && g.outH * g.outW >= 1024
    }

    // MARK: forward

    /// y[N, outC, outH, outW] = conv(x, weight) + bias.
    /// `activation` is applied to the output in the same pass (identity by default), which is how inference
    /// fuses conv → batch norm → activation.
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, activation: Activation = .identity) {
        if g.isDepthwise { depthwiseForward(g, x: x, weight: weight, bias: bias, y: y, activation: activation); return }
        defer { if activation != .identity { activation.forward(y, y, count: g.batch * g.outChannels * g.outH * g.outW) } }
        let hw = g.outH * g.outW, inPlane = g.height * g.width
        if usesDirectGEMM(g) {
            for n in 0..<g.batch {
                let yn = y + n * g.outChannels * hw
                sgemm(m: g.outChannels, n: hw, k: g.inChannels, a: weight, lda: g.inChannels,
                      b: x + n * g.inChannels * inPlane, ldb: hw, c: yn, ldc: hw)
                if let bias { addChannelBias(bias, to: yn, channels: g.outChannels, plane: hw) }
            }
            return
        }
        let chunk = imagesPerChunk(g)
        let kRows = g.inChannels * g.kernelH * g.kernelW
        let kG = kRows / g.groups, outG = g.outChannels / g.groups
        Workspace.shared.with(kRows * chunk * hw + g.outChannels * chunk * hw) { scratch in
            let cols = scratch, staged = scratch + kRows * chunk * hw
            var n0 = 0
            while n0 < g.batch {
                let bc = min(chunk, g.batch - n0), ld = bc * hw
                im2col(g, x: x, firstImage: n0, images: bc, cols: cols, ld: ld)
                let out = bc == 1 ? y + n0 * g.outChannels * hw : staged
                for grp in 0..<g.groups {
                    sgemm(m: outG, n: ld, k: kG, a: weight + grp * outG * kG, lda: kG,
                          b: cols + grp * kG * ld, ldb: ld, c: out + grp * outG * ld, ldc: ld)
                }
                if bc == 1 {
                    if let bias { addChannelBias(bias, to: out, channels: g.outChannels, plane: hw) }
                    n0 += 1; continue
                }
                // staged[outC, (image, pixel)] → y[image, outC, pixel], adding the bias on the way.
                Parallel.forEach(bc * g.outChannels, grain: 8) { r in
                    for item in r {
                        let b = item / g.outChannels, co = item % g.outChannels
                        let src = staged + co * ld + b * hw, dst = y + ((n0 + b) * g.outChannels + co) * hw
                        let bv = bias?[co] ?? 0
                        for p in 0..<hw { dst[p] = src[p] + bv }
                    }
                }
                n0 += bc
            }
        }
    }

    /// Unfolds images n0..<n0+count into cols[inC·kH·kW, count·outH·outW] (row stride `ld`).
    static func im2col(_ g: ConvGeometry, x: UnsafePointer<Float>, firstImage n0: Int, images count: Int,
                       cols: UnsafeMutablePointer<Float>, ld: Int) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width, kk = g.kernelH * g.kernelW
        Parallel.forEach(count * g.inChannels, grain: 4) { r in
            for item in r {
                let b = item / g.inChannels, c = item % g.inChannels
                let plane = x + ((n0 + b) * g.inChannels + c) * inPlane
                for i in 0..<g.kernelH {
                    let rows = g.validRows(i)
                    for j in 0..<g.kernelW {
                        let dst = cols + (c * kk + i * g.kernelW + j) * ld + b * hw
                        let colsOK = g.validColumns(j)
                        let colOffset = j * g.dilationW - g.padLeft
                        for oh in 0..<g.outH {
                            let drow = dst + oh * g.outW
                            if !rows.contains(oh) || colsOK.isEmpty {
                                drow.update(repeating: 0, count: g.outW); continue
                            }
                            let srow = plane + (oh * g.strideH - g.padTop + i * g.dilationH) * g.width
                            if colsOK.lowerBound > 0 { drow.update(repeating: 0, count: colsOK.lowerBound) }
                            if g.strideW == 1 {
                                (drow + colsOK.lowerBound).update(from: srow + colsOK.lowerBound + colOffset, count: colsOK.count)
                            } else {
                                for ow in colsOK { drow[ow] = srow[ow * g.strideW + colOffset] }
                            }
                            if colsOK.upperBound < g.outW {
                                (drow + colsOK.upperBound).update(repeating: 0, count: g.outW - colsOK.upperBound)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Folds cols back, adding every column entry into the image pixel it came from: dx += col2im(cols).
    static func col2imAccumulate(_ g: ConvGeometry, cols: UnsafePointer<Float>, ld: Int, firstImage n0: Int,
                                 images count: Int, dx: UnsafeMutablePointer<Float>) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width, kk = g.kernelH * g.kernelW
        Parallel.forEach(count * g.inChannels, grain: 4) { r in
            for item in r {
                let b = item / g.inChannels, c = item % g.inChannels
                let plane = dx + ((n0 + b) * g.inChannels + c) * inPlane
                for i in 0..<g.kernelH {
                    let rows = g.validRows(i)
                    for j in 0..<g.kernelW {
                        let src = cols + (c * kk + i * g.kernelW + j) * ld + b * hw
                        let colsOK = g.validColumns(j)
                        let colOffset = j * g.dilationW - g.padLeft
                        for oh in rows {
                            let srow = src + oh * g.outW
                            let drow = plane + (oh * g.strideH - g.padTop + i * g.dilationH) * g.width
                            if g.strideW == 1 {
                                for ow in colsOK { drow[ow + colOffset] += srow[ow] }
                            } else {
                                for ow in colsOK { drow[ow * g.strideW + colOffset] += srow[ow] }
                            }
                        }
                    }
                }
            }
        }
    }

    static func addChannelBias(_ bias: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, channels: Int, plane: Int) {
        Parallel.forEach(channels, grain: 16) { r in
            for c in r { let row = y + c * plane, b = bias[c]; for p in 0..<plane { row[p] += b } }
        }
    }

    // MARK: backward

    /// Accumulates dWeight and dBias (when given) and writes dx (when given) from dy.
    public static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                dWeight: UnsafeMutablePointer<Float>?, dBias: UnsafeMutablePointer<Float>?) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width
        if let dBias {
            Parallel.forEach(g.outChannels, grain: 4) { r in
                for co in r {
                    var s: Float = 0
                    for n in 0..<g.batch { let p = dy + (n * g.outChannels + co) * hw; for q in 0..<hw { s += p[q] } }
                    dBias[co] += s
                }
            }
        }
        if g.isDepthwise { depthwiseBackward(g, x: x, weight: weight, dy: dy, dx: dx, dWeight: dWeight); return }
        if dx == nil && dWeight == nil { return }
        if usesDirectGEMM(g) {
            for n in 0..<g.batch {
                let xn = x + n * g.inChannels * inPlane, dyn = dy + n * g.outChannels * hw
                if let dWeight {
                    sgemm(transB: true, m: g.outChannels, n: g.inChannels, k: hw, a: dyn, lda: hw,
                          b: xn, ldb: hw, beta: 1, c: dWeight, ldc: g.inChannels)
                }
                if let dx {
                    sgemm(transA: true, m: g.inChannels, n: hw, k: g.outChannels, a: weight, lda: g.inChannels,
                          b: dyn, ldb: hw, c: dx + n * g.inChannels * inPlane, ldc: hw)
                }
            }
            return
        }
        if let dx { dx.update(repeating: 0, count: g.batch * g.inChannels * inPlane) }
        let chunk = imagesPerChunk(g)
        let kRows = g.inChannels * g.kernelH * g.kernelW
        let kG = kRows / g.groups, outG = g.outChannels / g.groups
        Workspace.shared.with(kRows * chunk * hw + g.outChannels * chunk * hw) { scratch in
            let cols = scratch
            var n0 = 0
            while n0 < g.batch {
                let bc = min(chunk, g.batch - n0), ld = bc * hw
                // dy[image, outC, pixel] → staged[outC, (image, pixel)]; one image needs no staging.
                let staged = bc == 1 ? UnsafeMutablePointer(mutating: dy + n0 * g.outChannels * hw) : scratch + kRows * chunk * hw
                if bc > 1 {
                    Parallel.forEach(bc * g.outChannels, grain: 8) { r in
                        for item in r {
                            let b = item / g.outChannels, co = item % g.outChannels
                            (staged + co * ld + b * hw).update(from: dy + ((n0 + b) * g.outChannels + co) * hw, count: hw)
                        }
                    }
                }
                if let dWeight {
                    im2col(g, x: x, firstImage: n0, images: bc, cols: cols, ld: ld)
                    for grp in 0..<g.groups {
                        sgemm(transB: true, m: outG, n: kG, k: ld, a: staged + grp * outG * ld, lda: ld,
                              b: cols + grp * kG * ld, ldb: ld, beta: 1, c: dWeight + grp * outG * kG, ldc: kG)
                    }
                }
                if let dx {
                    for grp in 0..<g.groups {
                        sgemm(transA: true, m: kG, n: ld, k: outG, a: weight + grp * outG * kG, lda: kG,
                              b: staged + grp * outG * ld, ldb: ld, c: cols + grp * kG * ld, ldc: ld)
                    }
                    col2imAccumulate(g, cols: cols, ld: ld, firstImage: n0, images: bc, dx: dx)
                }
                n0 += bc
            }
        }
    }

    // MARK: depthwise

    /// Depthwise forward. Each input plane is copied once, zero-padded and split into `stride` column phases,
    /// so that every tap reads a contiguous row with no bounds checks; each 16-wide output vector then sums
    /// all k×k taps in a register and is stored once.
    static func depthwiseForward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, activation: Activation) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width, kk = g.kernelH * g.kernelW, C = g.inChannels
        let sw = g.strideW, sh = g.strideH
        let paddedH = g.height + g.padTop + g.padBottom, paddedW = g.width + g.padLeft + g.padRight
        let phaseW = (paddedW + sw - 1) / sw               // columns per phase
        let scratchPerThread = paddedH * phaseW * sw
        let threads = Parallel.cores
        // Where tap (i, j) of output (0, 0) sits in the phase-split plane.
        let taps = (0..<kk).map { t -> Int in
            let i = t / g.kernelW, col = (t % g.kernelW) * g.dilationW
            return ((col % sw) * paddedH + i * g.dilationH) * phaseW + col / sw
        }
        Workspace.shared.with(scratchPerThread * threads) { scratch in
            let chunks = min(threads, g.batch * C)
            DispatchQueue.concurrentPerform(iterations: chunks) { t in
                let padded = scratch + t * scratchPerThread
                let lo = g.batch * C * t / chunks, hi = g.batch * C * (t + 1) / chunks
                for item in lo..<hi {
                    let c = item % C
                    let xp = x + item * inPlane, yp = y + item * hw, w = weight + c * kk
                    // padded[phase][row][k] = input(row − padTop, k·sw + phase − padLeft), zero outside.
                    padded.update(repeating: 0, count: scratchPerThread)
                    for r in 0..<g.height {
                        let src = xp + r * g.width, row = r + g.padTop
                        for col in 0..<g.width {
                            let pc = col + g.padLeft
                            padded[((pc % sw) * paddedH + row) * phaseW + pc / sw] = src[col]
                        }
                    }
                    let b = bias?[c] ?? 0
                    taps.withUnsafeBufferPointer { tap in
                        for oh in 0..<g.outH {
                            let yrow = yp + oh * g.outW, base = padded + oh * sh * phaseW
                            var ow = 0
                            while ow + 16 <= g.outW {
                                var acc = SIMD16<Float>(repeating: b)
                                for t in 0..<kk {
                                    acc += w[t] * UnsafeRawPointer(base + tap[t] + ow).loadUnaligned(as: SIMD16<Float>.self)
                                }
                                UnsafeMutableRawPointer(yrow + ow).storeBytes(of: acc, as: SIMD16<Float>.self)
                                ow += 16
                            }
                            while ow < g.outW {
                                var acc = b
                                for t in 0..<kk { acc += w[t] * base[tap[t] + ow] }
                                yrow[ow] = acc
                                ow += 1
                            }
                        }
                    }
                    // The plane is still in cache: apply the activation now rather than in another pass.
                    switch activation {
                    case .identity: break
                    case .relu: for q in 0..<hw { yp[q] = max(yp[q], 0) }
                    case .relu6: for q in 0..<hw { yp[q] = min(max(yp[q], 0), 6) }
                    case .silu: for q in 0..<hw { let v = yp[q]; yp[q] = v / (1 + fastExp(-v)) }
                    default: for q in 0..<hw { yp[q] = activation.value(yp[q]) }
                    }
                }
            }
        }
    }

    static func depthwiseBackward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                  dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>?,
                                  dWeight: UnsafeMutablePointer<Float>?) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width, kk = g.kernelH * g.kernelW, C = g.inChannels
        if let dx {
            Parallel.forEach(g.batch * C, grain: 2) { r in
                for item in r {
                    let c = item % C
                    let dxp = dx + item * inPlane, dyp = dy + item * hw, w = weight + c * kk
                    dxp.update(repeating: 0, count: inPlane)
                    for i in 0..<g.kernelH {
                        for oh in g.validRows(i) {
                            let dxrow = dxp + (oh * g.strideH - g.padTop + i * g.dilationH) * g.width
                            let dyrow = dyp + oh * g.outW
                            for j in 0..<g.kernelW {
                                let wv = w[i * g.kernelW + j], off = j * g.dilationW - g.padLeft
                                let colsOK = g.validColumns(j)
                                if g.strideW == 1 {
                                    for ow in colsOK { dxrow[ow + off] += wv * dyrow[ow] }
                                } else {
                                    for ow in colsOK { dxrow[ow * g.strideW + off] += wv * dyrow[ow] }
                                }
                            }
                        }
                    }
                }
            }
        }
        if let dWeight {
            Parallel.forEach(C, grain: 1) { r in
                for c in r {
                    var acc = [Float](repeating: 0, count: kk)
                    for n in 0..<g.batch {
                        let xp = x + (n * C + c) * inPlane, dyp = dy + (n * C + c) * hw
                        for i in 0..<g.kernelH {
                            for oh in g.validRows(i) {
                                let xrow = xp + (oh * g.strideH - g.padTop + i * g.dilationH) * g.width
                                let dyrow = dyp + oh * g.outW
                                for j in 0..<g.kernelW {
                                    let off = j * g.dilationW - g.padLeft
                                    var s: Float = 0
                                    if g.strideW == 1 {
                                        for ow in g.validColumns(j) { s += dyrow[ow] * xrow[ow + off] }
                                    } else {
                                        for ow in g.validColumns(j) { s += dyrow[ow] * xrow[ow * g.strideW + off] }
                                    }
                                    acc[i * g.kernelW + j] += s
                                }
                            }
                        }
                    }
                    for q in 0..<kk { dWeight[c * kk + q] += acc[q] }
                }
            }
        }
    }
}
