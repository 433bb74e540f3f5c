import Dispatch

/// 2-D convolution over NCHW tensors; weights are [outC, inC/groups, kH, kW] as in PyTorch.
///
/// Five paths, picked by shape: depthwise (a direct loop per channel plane), stride-1 3×3 (Winograd F(2×2, 3×3),
/// `Winograd`), pointwise on large maps without a bias or activation (one GEMM per image, no copy, OpenBLAS on
/// all cores), every other ungrouped convolution (the images split across cores, each core unfolding one image
/// and running single-threaded GEMMs straight into the output, tile by tile when a bias and activation follow)
/// and grouped convolutions (im2col over a chunk of images into one wide matrix, one GEMM per group).
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

    /// Output floats of one column tile in the per-core forward: the tile's bias, GEMM and activation run while
    /// it sits in the core's L2 (2 MB here), so a large map's output goes out to memory once instead of three
    /// times (bias fill, GEMM read-modify-write, activation read-modify-write).
    static let tileOutputFloats = 96 << 10

    /// Column tiles of an image's `hw` outputs for `outChannels` rows: a count and a width (a multiple of 16
    /// except for the last tile).
    public static func columnTiles(hw: Int, outChannels: Int) -> (count: Int, width: Int) {
        let widest = max(256, tileOutputFloats / max(outChannels, 1))
        let count = (hw + widest - 1) / widest
        return (count, ((hw + count - 1) / count + 15) / 16 * 16)
    }

    /// Every other ungrouped convolution: one image at a time per core — im2col of that image (unless 1×1)
    /// into the core's own columns, then a single-threaded GEMM that writes NCHW directly. A GEMM of one small
    /// image is too narrow (N = 49…784) for two OpenBLAS threads to share well, and a chunk of images unfolded
    /// side by side needs a copy back and columns far larger than the caches; each core running whole images
    /// reaches GEMM speed with neither. `tlab bench conv`, GFLOP/s before → after: 1×1 40→240 @28 forward
    /// 88 → 173, 80→480 @14 128 → 180; ResNet-18 3×3 @28 137 → 166, 3×3/2 @56 105–137 → 158–169, conv1
    /// 7×7/2 83–101 → 120–126; 3×3 at 14×14 and 7×7 unchanged. (Stride-1 3×3s with ≥ 16 channels have since
    /// moved to `Winograd`, which `forward` and `backward` try first.)
    static func usesPerCoreGEMM(_ g: ConvGeometry) -> Bool {
        g.groups == 1 && !usesDirectGEMM(g)
    }

    // MARK: forward

    /// y[N, outC, outH, outW] = conv(x, weight) + bias.
    /// `activation` is applied to the output in the same pass (identity by default), which is how inference
    /// fuses conv → batch norm → activation.
    /// `inputScales` ([N, inC], ungrouped convolutions only) multiplies each image's input channels first —
    /// a squeeze-excitation gate — applied to a per-image copy of the weights (outC·inC·kH·kW values) instead of
    /// to the input (inC·H·W values, far more on the large maps).
    public static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, activation: Activation = .identity,
                               inputScales: UnsafePointer<Float>? = nil) {
        if let inputScales {
            precondition(g.groups == 1, "input scales need an ungrouped convolution")
            perCoreForward(g, x: x, weight: weight, bias: bias, y: y, activation: activation, inputScales: inputScales)
            return
        }
        if g.isDepthwise { Depthwise.forward(g, x: x, weight: weight, bias: bias, y: y, activation: activation); return }
        if Winograd.applies(g) { Winograd.forward(g, x: x, weight: weight, bias: bias, y: y, activation: activation); return }
        let hw = g.outH * g.outW, inPlane = g.height * g.width
        if usesDirectGEMM(g) && bias == nil && activation == .identity {
            for n in 0..<g.batch {
                sgemm(m: g.outChannels, n: hw, k: g.inChannels, a: weight, lda: g.inChannels,
                      b: x + n * g.inChannels * inPlane, ldb: hw, c: y + n * g.outChannels * hw, ldc: hw)
            }
            return
        }
        // Every other ungrouped convolution, large pointwise maps with a bias or an activation (folded batch norm)
        // included: whole images per core, each image's output in column tiles (`columnTiles`). With a bias the
        // tile starts as the bias and the GEMM adds to it (beta = 1: OpenBLAS's beta = 0 would zero it in a pass
        // of its own); the activation follows while the tile is still in cache.
        if g.groups == 1 {
            perCoreForward(g, x: x, weight: weight, bias: bias, y: y, activation: activation, inputScales: nil)
            return
        }
        defer { if activation != .identity { activation.forward(y, y, count: g.batch * g.outChannels * hw) } }
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

    /// The per-core path of `forward` (every ungrouped convolution but the bias-free large pointwise ones).
    static func perCoreForward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               y: UnsafeMutablePointer<Float>, activation: Activation, inputScales: UnsafePointer<Float>?) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width
        let kRows = g.inChannels * g.kernelH * g.kernelW
        let colsPerCore = g.isPointwise ? 0 : kRows * hw, weightsPerCore = inputScales == nil ? 0 : g.outChannels * kRows
        let perCore = colsPerCore + weightsPerCore, kk = g.kernelH * g.kernelW
        let tiles = bias == nil && activation == .identity ? (count: 1, width: hw) : columnTiles(hw: hw, outChannels: g.outChannels)
        // Work items: (image, tile) for 1×1 convolutions, so that a batch smaller than the core count still
        // uses every core; whole images otherwise (an image's columns are unfolded once).
        let tilesPerItem = g.isPointwise ? 1 : tiles.count, itemsPerImage = tiles.count / tilesPerItem
        let parts = Parallel.contiguousParts(g.batch * itemsPerImage)
        Workspace.shared.with(perCore * parts.count + 1) { scratch in
            BLASThreads.perCore(parts.count) { r in
                for part in r {
                    let cols = scratch + part * perCore, scaled = cols + colsPerCore
                    var prepared = -1   // the image whose columns and scaled weights this core holds
                    for item in parts[part] {
                        let n = item / itemsPerImage, yn = y + n * g.outChannels * hw
                        if n != prepared {
                            if !g.isPointwise { im2col(g, x: x, firstImage: n, images: 1, cols: cols, ld: hw, parallel: false) }
                            if let inputScales {
                                // Column block k of the weights times image n's scale of input channel k.
                                let s = inputScales + n * g.inChannels
                                for co in 0..<g.outChannels {
                                    let src = weight + co * kRows, dst = scaled + co * kRows
                                    if kk == 1 { for k in 0..<g.inChannels { dst[k] = src[k] * s[k] }; continue }
                                    for k in 0..<g.inChannels { let sk = s[k]; for t in k * kk..<(k + 1) * kk { dst[t] = src[t] * sk } }
                                }
                            }
                            prepared = n
                        }
                        let b = g.isPointwise ? x + n * g.inChannels * inPlane : UnsafePointer(cols)
                        let w = inputScales == nil ? weight : UnsafePointer(scaled)
                        let first = (item % itemsPerImage) * tilesPerItem
                        for tile in first..<first + tilesPerItem {
                            let p0 = tile * tiles.width, width = min(tiles.width, hw - p0)
                            if let bias { for c in 0..<g.outChannels { (yn + c * hw + p0).update(repeating: bias[c], count: width) } }
                            sgemm(m: g.outChannels, n: width, k: kRows, a: w, lda: kRows, b: b + p0, ldb: hw,
                                  beta: bias == nil ? 0 : 1, c: yn + p0, ldc: hw)
                            if activation != .identity {
                                for c in 0..<g.outChannels { activation.apply(from: yn + c * hw + p0, to: yn + c * hw + p0, count: width) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Unfolds images n0..<n0+count into cols[inC·kH·kW, count·outH·outW] (row stride `ld`).
    static func im2col(_ g: ConvGeometry, x: UnsafePointer<Float>, firstImage n0: Int, images count: Int,
                       cols: UnsafeMutablePointer<Float>, ld: Int, parallel: Bool = true) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width, kk = g.kernelH * g.kernelW
        Parallel.forEach(count * g.inChannels, grain: parallel ? 4 : Int.max) { r in
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
                                 images count: Int, dx: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        let hw = g.outH * g.outW, inPlane = g.height * g.width, kk = g.kernelH * g.kernelW
        Parallel.forEach(count * g.inChannels, grain: parallel ? 4 : Int.max) { r in
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
                    for n in 0..<g.batch { s += Reduce.sum(dy + (n * g.outChannels + co) * hw, count: hw) }
                    dBias[co] += s
                }
            }
        }
        if g.isDepthwise { Depthwise.backward(g, x: x, weight: weight, dy: dy, dx: dx, dWeight: dWeight); return }
        if dx == nil && dWeight == nil { return }
        if Winograd.applies(g) { Winograd.backward(g, x: x, weight: weight, dy: dy, dx: dx, dWeight: dWeight); return }
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
        if usesPerCoreGEMM(g) {
            // Each core sums its images' dW into its own buffer (the first core straight into dWeight); the
            // buffers are then added in core order, so the result is fixed for a given core count.
            let parts = Parallel.contiguousParts(g.batch), kRows = g.inChannels * g.kernelH * g.kernelW, size = g.outChannels * kRows
            let colsPerCore = g.isPointwise ? 0 : kRows * hw, partials = dWeight == nil ? 0 : (parts.count - 1) * size
            Workspace.shared.with(partials + colsPerCore * parts.count + 1) { scratch in
                let partial = scratch
                BLASThreads.perCore(parts.count) { r in
                    for part in r {
                        let acc = part == 0 ? dWeight : partial + (part - 1) * size
                        let cols = scratch + partials + part * colsPerCore
                        for n in parts[part] {
                            let dyn = dy + n * g.outChannels * hw, dxn = dx.map { $0 + n * g.inChannels * inPlane }
                            if let acc {
                                if !g.isPointwise { im2col(g, x: x, firstImage: n, images: 1, cols: cols, ld: hw, parallel: false) }
                                sgemm(transB: true, m: g.outChannels, n: kRows, k: hw, a: dyn, lda: hw,
                                      b: g.isPointwise ? x + n * g.inChannels * inPlane : UnsafePointer(cols), ldb: hw,
                                      beta: part == 0 || n > parts[part].lowerBound ? 1 : 0, c: acc, ldc: kRows)
                            }
                            if let dxn {
                                sgemm(transA: true, m: kRows, n: hw, k: g.outChannels, a: weight, lda: kRows,
                                      b: dyn, ldb: hw, c: g.isPointwise ? dxn : cols, ldc: hw)
                                if !g.isPointwise {
                                    dxn.update(repeating: 0, count: g.inChannels * inPlane)
                                    col2imAccumulate(g, cols: cols, ld: hw, firstImage: 0, images: 1, dx: dxn, parallel: false)
                                }
                            }
                        }
                    }
                }
                if let dWeight {
                    for part in 1..<parts.count { addElementwise(dWeight, partial + (part - 1) * size, dWeight, count: size) }
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
}
