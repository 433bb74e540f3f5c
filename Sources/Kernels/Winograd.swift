/// Winograd F(2×2, 3×3) for stride-1, undilated, ungrouped 3×3 convolutions (ResNet's and VGG's bodies).
///
/// Each 2×2 block of outputs ("tile") comes from a 4×4 window of input; in the transformed domain the
/// convolution is 16 independent channel products, one per position ξ of a 4×4 tile, each a plain GEMM:
/// M[ξ] (outC × tiles) = U[ξ] (outC × inC) · V[ξ] (inC × tiles), with U = G·g·Gᵀ the transformed filters and
/// V = Bᵀ·d·B the transformed input windows, and the outputs are Y = Aᵀ·M·A (Lavin & Gray, 2015). That is
/// 16 multiplies per tile and channel pair instead of 36: 2.25× fewer, paid for with transforms that are
/// additions only. The same three products give the two gradients: dx is this forward on dy with the
/// filters flipped and transposed, and dW = Gᵀ·[Σ_tiles (A·dY·Aᵀ) ⊙ V]·G, a GEMM over tiles per ξ.
///
/// Layout: every plane is split into even and odd rows and columns (polyphase, as the depthwise kernels do),
/// and each column phase is stored twice, the second copy shifted by one tile, so the four values a row of
/// tiles needs from each input row are four flat vectors at the same index. Every transform is then one
/// flat 16-wide loop over the tiles of a band, whatever the map's width (14×14 is 49 tiles, 4 vectors).
/// Work runs in chunks (a band of tile rows of one image, or several whole small images) sized so the GEMMs
/// get ~1000 columns; chunks are split across cores in order, OpenBLAS single-threaded inside, and the
/// per-core weight-gradient sums are added in core order: results are fixed for a given core count.
/// Errors: the transforms add up to 4 (input) and 4 (output) values of mixed sign, so the result differs
/// from direct convolution by a few float ulps of the largest partial sum (tests bound it against a
/// double-precision loop; the parity fixtures are unchanged).
public enum Winograd {
    /// Layers with fewer channels than this keep im2col: with K or M this small the GEMMs are too thin to
    /// pay for the transforms (VGG's first layer, 3 → 64).
    public static let minimumChannels = 16

    public static func applies(_ g: ConvGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1
            && g.groups == 1 && g.inChannels >= minimumChannels && g.outChannels >= minimumChannels
            && [g.padTop, g.padBottom, g.padLeft, g.padRight].allSatisfy { (0...2).contains($0) }
    }

    /// The geometry of dx as a convolution of dy: channels swapped, padding 2 − p on each side, same size.
    static func inputGradientGeometry(_ g: ConvGeometry) -> ConvGeometry {
        var t = g
        t.inChannels = g.outChannels; t.outChannels = g.inChannels
        t.height = g.outH; t.width = g.outW; t.outH = g.height; t.outW = g.width
        t.padTop = 2 - g.padTop; t.padBottom = 2 - g.padBottom; t.padLeft = 2 - g.padLeft; t.padRight = 2 - g.padRight
        return t
    }

    // MARK: tiling

    /// A run of tile rows `rows` of images `images`; several images only when each is one whole band.
    struct Chunk { var images: Range<Int>; var rows: Range<Int> }

    struct Tiling {
        let tilesH, tilesW: Int
        let chunks: [Chunk]
        /// The most tiles any chunk holds (the GEMMs' N).
        let maxTiles: Int
        /// The most tile rows any chunk's band holds.
        let maxRows: Int

        init(_ g: ConvGeometry) {
            tilesH = (g.outH + 1) / 2; tilesW = (g.outW + 1) / 2
            // Chunk sizes measured on ResNet-18's four 3×3 shapes (docs/decisions.md, 2026-12-04): an image
            // of up to 256 tiles is one chunk; a larger one is cut into bands of tile rows of about 160 tiles
            // (56×56 at 64 channels: 140-tile bands ran 1.2× faster than whole images); images under 32 tiles
            // go together up to 256 tiles, as with fewer the 16 GEMMs (each re-reading its U) lose more than
            // a cache-sized chunk gains.
            let band = 160
            let perImage = tilesH * tilesW
            var chunks: [Chunk] = []
            if perImage >= 32 {
                let rows = perImage <= 256 ? tilesH : max(1, band / tilesW)
                for n in 0..<g.batch {
                    var r = 0
                    while r < tilesH { chunks.append(Chunk(images: n..<n + 1, rows: r..<min(tilesH, r + rows))); r += rows }
                }
            } else {
                let images = max(1, min(256 / perImage, (g.batch + Parallel.cores - 1) / Parallel.cores))
                var n = 0
                while n < g.batch { chunks.append(Chunk(images: n..<min(g.batch, n + images), rows: 0..<tilesH)); n += images }
            }
            self.chunks = chunks
            let width = tilesW
            maxTiles = chunks.map { $0.images.count * $0.rows.count * width }.max() ?? 0
            maxRows = chunks.map { $0.rows.count }.max() ?? 0
        }
    }

    // MARK: forward

    /// y = conv3×3(x, weight) + bias, then `activation`. `Conv2D.forward` is the entry point.
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, activation: Activation = .identity) {
        let filters = 16 * g.outChannels * g.inChannels
        Workspace.shared.with(filters) { u in
            transformFilters(weight, outChannels: g.outChannels, inChannels: g.inChannels, flipped: false, into: u)
            convolve(g, x: x, filters: u, bias: bias, y: y, activation: activation)
        }
    }

    /// The three stages over transformed filters `u` [16][outC][inC]: the forward pass, and the input gradient
    /// when `backward` passes the flipped filters and the gradient's geometry.
    static func convolve(_ g: ConvGeometry, x: UnsafePointer<Float>, filters u: UnsafePointer<Float>,
                         bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, activation: Activation) {
        let tiling = Tiling(g), parts = Parallel.contiguousParts(tiling.chunks.count)
        let inputScratch = InputScratch(tilesW: tiling.tilesW, rows: tiling.maxRows)
        let v = 16 * g.inChannels * tiling.maxTiles, m = 16 * g.outChannels * tiling.maxTiles + 16
        let outputScratch = 4 * (tiling.maxRows * tiling.tilesW + 16)
        let perCore = v + m + inputScratch.floats + outputScratch
        Workspace.shared.with(perCore * parts.count) { scratch in
            BLASThreads.perCore(parts.count) { r in
                for part in r {
                    let base = scratch + part * perCore
                    let vs = base, ms = base + v, planes = base + v + m, outs = planes + inputScratch.floats
                    for c in parts[part] {
                        let chunk = tiling.chunks[c], tiles = chunk.images.count * chunk.rows.count * tiling.tilesW
                        transformInputs(g, tiling, chunk, x: x, scratch: inputScratch, planes: planes, v: vs, ld: tiles)
                        for xi in 0..<16 {
                            sgemm(m: g.outChannels, n: tiles, k: g.inChannels, a: u + xi * g.outChannels * g.inChannels, lda: g.inChannels,
                                  b: vs + xi * g.inChannels * tiles, ldb: tiles, c: ms + xi * g.outChannels * tiles, ldc: tiles)
                        }
                        transformOutputs(g, tiling, chunk, m: ms, ld: tiles, bias: bias, y: y, activation: activation, scratch: outs)
                    }
                }
            }
        }
    }

    /// U[ξ][o][i] = (G·g·Gᵀ)[ξ] of filter g = weight[o][i]; flipped: the filters of the input gradient,
    /// U[ξ][i][o] from weight[o][i] rotated by 180°. Sixteen filters at a time, one per lane, so that every
    /// store is a contiguous run of U's rows.
    static func transformFilters(_ weight: UnsafePointer<Float>, outChannels: Int, inChannels: Int, flipped: Bool,
                                 into u: UnsafeMutablePointer<Float>) {
        let plane = outChannels * inChannels
        let rows = flipped ? inChannels : outChannels, columns = flipped ? outChannels : inChannels
        // Filter (o, i) of lane l in run (r, c0), as an offset into weight.
        let laneStride = flipped ? inChannels * 9 : 9
        Parallel.forEach(rows, grain: 8) { range in
            // The 16 filters' taps transposed to tap-major (9 × 16 floats) with plain copies, then read as
            // vectors: inserting lanes one by one into a SIMD16 compiles to a store and reload per lane.
            let taps = UnsafeMutablePointer<Float>.allocate(capacity: 9 * 16)
            defer { taps.deallocate() }
            taps.initialize(repeating: 0, count: 9 * 16)
            for r in range {
                var c0 = 0
                while c0 < columns {
                    let lanes = min(16, columns - c0)
                    let first = weight + (flipped ? c0 * inChannels + r : r * inChannels + c0) * 9
                    for l in 0..<lanes { for t in 0..<9 { taps[t * 16 + l] = first[l * laneStride + t] } }
                    @inline(__always) func tap(_ a: Int, _ b: Int) -> SIMD16<Float> {
                        load16(taps + (flipped ? (2 - a) * 3 + (2 - b) : a * 3 + b) * 16)
                    }
                    // G·g, column b: (g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2) down the rows.
                    @inline(__always) func column(_ b: Int) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
                        let g0 = tap(0, b), g1 = tap(1, b), g2 = tap(2, b)
                        return (g0, 0.5 * (g0 + g1 + g2), 0.5 * (g0 - g1 + g2), g2)
                    }
                    let k0 = column(0), k1 = column(1), k2 = column(2)
                    let dst = u + r * columns + c0
                    // (G·g)·Gᵀ along each row a: (h0, (h0 + h1 + h2)/2, (h0 − h1 + h2)/2, h2).
                    @inline(__always) func put(_ a: Int, _ h0: SIMD16<Float>, _ h1: SIMD16<Float>, _ h2: SIMD16<Float>) {
                        storePrefix(h0, dst + (a * 4) * plane, count: lanes)
                        storePrefix(0.5 * (h0 + h1 + h2), dst + (a * 4 + 1) * plane, count: lanes)
                        storePrefix(0.5 * (h0 - h1 + h2), dst + (a * 4 + 2) * plane, count: lanes)
                        storePrefix(h2, dst + (a * 4 + 3) * plane, count: lanes)
                    }
                    put(0, k0.0, k1.0, k2.0); put(1, k0.1, k1.1, k2.1); put(2, k0.2, k1.2, k2.2); put(3, k0.3, k1.3, k2.3)
                    c0 += 16
                }
            }
        }
    }

    /// Per-core scratch of the input transform: one plane's band in its 2 row phases × 4 column copies
    /// (even, odd, even shifted by one tile, odd shifted), each `rows + 1` × tilesW, plus a padded input row.
    struct InputScratch {
        let tilesW, rows: Int
        var copyFloats: Int { (rows + 1) * tilesW + 16 }
        var floats: Int { 8 * copyFloats + 2 * tilesW + 2 + 64 }
        /// Column copy `k` (0 even, 1 odd, 2 even + 1, 3 odd + 1) of row phase `phase`.
        func copy(_ planes: UnsafeMutablePointer<Float>, phase: Int, _ k: Int) -> UnsafeMutablePointer<Float> {
            planes + (phase * 4 + k) * copyFloats
        }
        func paddedRow(_ planes: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> { planes + 8 * copyFloats }
    }

    /// V[ξ][c][t] (row stride ld) for every input channel of the chunk's tiles.
    static func transformInputs(_ g: ConvGeometry, _ tiling: Tiling, _ chunk: Chunk, x: UnsafePointer<Float>,
                                scratch s: InputScratch, planes: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, ld: Int) {
        let tw = tiling.tilesW, bandRows = chunk.rows.count, bandTiles = bandRows * tw
        let padded = s.paddedRow(planes), paddedWidth = 2 * tw + 2, inPlane = g.height * g.width
        let xiStride = g.inChannels * ld
        for (k, n) in chunk.images.enumerated() {
            for c in 0..<g.inChannels {
                let src = x + (n * g.inChannels + c) * inPlane
                // Padded rows 2·r0 ..< 2·r1 + 2 of the band, each into its row phase's four column copies.
                for local in 0..<(2 * bandRows + 2) {
                    let inputRow = 2 * chunk.rows.lowerBound + local - g.padTop
                    let phase = local & 1, row = local >> 1
                    if inputRow >= 0 && inputRow < g.height {
                        let valid = min(g.width, paddedWidth - g.padLeft)
                        padded.update(repeating: 0, count: g.padLeft)
                        (padded + g.padLeft).update(from: src + inputRow * g.width, count: valid)
                        (padded + g.padLeft + valid).update(repeating: 0, count: paddedWidth - g.padLeft - valid)
                    } else {
                        padded.update(repeating: 0, count: paddedWidth)
                    }
                    // Even and odd columns, and both shifted by one tile, 16 tiles at a time; the lanes past the
                    // row's end land in the next row (written after) or the slack.
                    let e = s.copy(planes, phase: phase, 0) + row * tw, o = s.copy(planes, phase: phase, 1) + row * tw
                    let e1 = s.copy(planes, phase: phase, 2) + row * tw, o1 = s.copy(planes, phase: phase, 3) + row * tw
                    var q = 0
                    while q < tw {
                        let here = load32(padded + 2 * q), next = load32(padded + 2 * q + 2)
                        store16(here.evenHalf, e + q); store16(here.oddHalf, o + q)
                        store16(next.evenHalf, e1 + q); store16(next.oddHalf, o1 + q)
                        q += 16
                    }
                }
                // Row a of every tile's window: phase a & 1, shifted by a >> 1 rows.
                let dst = v + c * ld + k * bandTiles
                var f = 0
                while f < bandTiles {
                    // Bᵀ·d·B: each window row a after the column transform (d0 − d2, d1 + d2, d2 − d1, d1 − d3), then
                    // the same across rows.
                    @inline(__always) func columns(_ a: Int) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
                        let at = f + (a >> 1) * tw, p = a & 1
                        let d0 = load16(s.copy(planes, phase: p, 0) + at), d1 = load16(s.copy(planes, phase: p, 1) + at)
                        let d2 = load16(s.copy(planes, phase: p, 2) + at), d3 = load16(s.copy(planes, phase: p, 3) + at)
                        return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
                    }
                    let r0 = columns(0), r1 = columns(1), r2 = columns(2), r3 = columns(3)
                    let count = min(16, bandTiles - f)
                    @inline(__always) func put(_ xi: Int, _ value: SIMD16<Float>) { storePrefix(value, dst + xi * xiStride + f, count: count) }
                    put(0, r0.0 - r2.0); put(1, r0.1 - r2.1); put(2, r0.2 - r2.2); put(3, r0.3 - r2.3)
                    put(4, r1.0 + r2.0); put(5, r1.1 + r2.1); put(6, r1.2 + r2.2); put(7, r1.3 + r2.3)
                    put(8, r2.0 - r1.0); put(9, r2.1 - r1.1); put(10, r2.2 - r1.2); put(11, r2.3 - r1.3)
                    put(12, r1.0 - r3.0); put(13, r1.1 - r3.1); put(14, r1.2 - r3.2); put(15, r1.3 - r3.3)
                    f += 16
                }
            }
        }
    }

    /// (a0, b0, a1, b1, …): the inverse of evenHalf / oddHalf.
    @inline(__always) static func interleave(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD32<Float> {
        var r = SIMD32<Float>()
        for i in 0..<16 { r[2 * i] = a[i]; r[2 * i + 1] = b[i] }
        return r
    }

    @inline(__always) static func storePrefix(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>, count: Int) {
        if count == 16 { store16(v, p) } else { for q in 0..<count { p[q] = v[q] } }
    }

    /// y = Aᵀ·M·A (+ bias, then activation) for every output channel of the chunk's tiles.
    static func transformOutputs(_ g: ConvGeometry, _ tiling: Tiling, _ chunk: Chunk, m: UnsafePointer<Float>, ld: Int,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, activation: Activation,
                                 scratch: UnsafeMutablePointer<Float>) {
        let tw = tiling.tilesW, bandTiles = chunk.rows.count * tw, yStride = bandTiles + 16
        let xiStride = g.outChannels * ld, outPlane = g.outH * g.outW
        let y00 = scratch, y01 = scratch + yStride, y10 = scratch + 2 * yStride, y11 = scratch + 3 * yStride
        for (k, n) in chunk.images.enumerated() {
            for o in 0..<g.outChannels {
                let src = m + o * ld + k * bandTiles, b = SIMD16<Float>(repeating: bias?[o] ?? 0)
                var f = 0
                while f < bandTiles {
                    @inline(__always) func at(_ xi: Int) -> SIMD16<Float> { load16(src + xi * xiStride + f) }
                    // Aᵀ·M: s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (rows of the 4×4 tile); then the same on columns.
                    @inline(__always) func rows(_ c: Int) -> (SIMD16<Float>, SIMD16<Float>) {
                        let m1 = at(4 + c), m2 = at(8 + c)
                        return (at(c) + m1 + m2, m1 - m2 - at(12 + c))
                    }
                    let c0 = rows(0), c1 = rows(1), c2 = rows(2), c3 = rows(3)
                    store16(c0.0 + c1.0 + c2.0 + b, y00 + f); store16(c1.0 - c2.0 - c3.0 + b, y01 + f)
                    store16(c0.1 + c1.1 + c2.1 + b, y10 + f); store16(c1.1 - c2.1 - c3.1 + b, y11 + f)
                    f += 16
                }
                // Interleave the four planes into output rows, dropping the half tiles past the map's edge.
                let plane = y + (n * g.outChannels + o) * outPlane
                for tr in 0..<chunk.rows.count {
                    for r in 0..<2 {
                        let oh = 2 * (chunk.rows.lowerBound + tr) + r
                        if oh >= g.outH { continue }
                        let row = plane + oh * g.outW, even = (r == 0 ? y00 : y10) + tr * tw, odd = (r == 0 ? y01 : y11) + tr * tw
                        let pairs = g.outW / 2
                        var q = 0
                        while q + 16 <= pairs { store32(interleave(load16(even + q), load16(odd + q)), row + 2 * q); q += 16 }
                        while q < pairs { row[2 * q] = even[q]; row[2 * q + 1] = odd[q]; q += 1 }
                        if g.outW & 1 == 1 { row[2 * pairs] = even[pairs] }
                        if activation != .identity { activation.apply(from: row, to: row, count: g.outW) }
                    }
                }
            }
        }
    }

    // MARK: backward

    /// dx (written) and dWeight (accumulated), each when given. `Conv2D.backward` is the entry point.
    static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?) {
        if let dx {
            Workspace.shared.with(16 * g.outChannels * g.inChannels) { u in
                transformFilters(weight, outChannels: g.outChannels, inChannels: g.inChannels, flipped: true, into: u)
                convolve(inputGradientGeometry(g), x: dy, filters: u, bias: nil, y: dx, activation: .identity)
            }
        }
        if let dWeight { weightGradient(g, x: x, dy: dy, dWeight: dWeight) }
    }

    /// dWeight += Gᵀ·S·G with S[ξ][o][i] = Σ_tiles (A·dY·Aᵀ)[ξ][o] · V[ξ][i], one GEMM over tiles per ξ.
    static func weightGradient(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>) {
        let tiling = Tiling(g), parts = Parallel.contiguousParts(tiling.chunks.count)
        if parts.isEmpty { return }  // an empty batch adds nothing
        let inputScratch = InputScratch(tilesW: tiling.tilesW, rows: tiling.maxRows)
        let v = 16 * g.inChannels * tiling.maxTiles, d = 16 * g.outChannels * tiling.maxTiles
        let gradientScratch = 4 * (tiling.maxRows * tiling.tilesW + 16), sums = 16 * g.outChannels * g.inChannels
        let perCore = sums + v + d + inputScratch.floats + gradientScratch
        Workspace.shared.with(perCore * parts.count) { scratch in
            BLASThreads.perCore(parts.count) { r in
                for part in r {
                    let sum = scratch + part * perCore, vs = sum + sums, ds = vs + v, planes = ds + d
                    let gradientPlanes = planes + inputScratch.floats
                    for (i, c) in parts[part].enumerated() {
                        let chunk = tiling.chunks[c], tiles = chunk.images.count * chunk.rows.count * tiling.tilesW
                        transformInputs(g, tiling, chunk, x: x, scratch: inputScratch, planes: planes, v: vs, ld: tiles)
                        transformOutputGradients(g, tiling, chunk, dy: dy, scratch: gradientPlanes, d: ds, ld: tiles)
                        for xi in 0..<16 {
                            sgemm(transB: true, m: g.outChannels, n: g.inChannels, k: tiles, a: ds + xi * g.outChannels * tiles, lda: tiles,
                                  b: vs + xi * g.inChannels * tiles, ldb: tiles, beta: i == 0 ? 0 : 1,
                                  c: sum + xi * g.outChannels * g.inChannels, ldc: g.inChannels)
                        }
                    }
                }
            }
            // Core 0's sums plus every other core's, in core order.
            for part in 1..<parts.count { addElementwise(scratch, scratch + part * perCore, scratch, count: sums) }
            accumulateFilterGradients(scratch, outChannels: g.outChannels, inChannels: g.inChannels, into: dWeight)
        }
    }

    /// D[ξ][o][t] = (A·dY·Aᵀ)[ξ] of every output channel's 2×2 gradient tiles (zero past the map's edge).
    static func transformOutputGradients(_ g: ConvGeometry, _ tiling: Tiling, _ chunk: Chunk, dy: UnsafePointer<Float>,
                                         scratch: UnsafeMutablePointer<Float>, d: UnsafeMutablePointer<Float>, ld: Int) {
        let tw = tiling.tilesW, bandTiles = chunk.rows.count * tw, stride = bandTiles + 16
        let xiStride = g.outChannels * ld, outPlane = g.outH * g.outW
        let p00 = scratch, p01 = scratch + stride, p10 = scratch + 2 * stride, p11 = scratch + 3 * stride
        for (k, n) in chunk.images.enumerated() {
            for o in 0..<g.outChannels {
                let plane = dy + (n * g.outChannels + o) * outPlane
                for tr in 0..<chunk.rows.count {
                    for r in 0..<2 {
                        let oh = 2 * (chunk.rows.lowerBound + tr) + r
                        let even = (r == 0 ? p00 : p10) + tr * tw, odd = (r == 0 ? p01 : p11) + tr * tw
                        if oh >= g.outH { even.update(repeating: 0, count: tw); odd.update(repeating: 0, count: tw); continue }
                        let row = plane + oh * g.outW, pairs = g.outW / 2
                        var q = 0
                        while q + 16 <= pairs { let v = load32(row + 2 * q); store16(v.evenHalf, even + q); store16(v.oddHalf, odd + q); q += 16 }
                        while q < pairs { even[q] = row[2 * q]; odd[q] = row[2 * q + 1]; q += 1 }
                        if g.outW & 1 == 1 { even[pairs] = row[2 * pairs]; odd[pairs] = 0 }
                    }
                }
                let dst = d + o * ld + k * bandTiles
                var f = 0
                while f < bandTiles {
                    let p = load16(p00 + f), q = load16(p01 + f), r = load16(p10 + f), s = load16(p11 + f)
                    let count = min(16, bandTiles - f)
                    @inline(__always) func put(_ a: Int, _ u: SIMD16<Float>, _ v: SIMD16<Float>) {
                        // Row a of A·dY is (u, v); times Aᵀ: (u, u + v, u − v, −v).
                        let at = dst + a * 4 * xiStride + f
                        storePrefix(u, at, count: count); storePrefix(u + v, at + xiStride, count: count)
                        storePrefix(u - v, at + 2 * xiStride, count: count); storePrefix(-v, at + 3 * xiStride, count: count)
                    }
                    put(0, p, q); put(1, p + r, q + s); put(2, p - r, q - s); put(3, -r, -s)
                    f += 16
                }
            }
        }
    }

    /// dWeight[o][i] += Gᵀ·S[·][o][i]·G, the 4×4 transformed gradient back to its 3×3 filter.
    static func accumulateFilterGradients(_ s: UnsafePointer<Float>, outChannels: Int, inChannels: Int, into dWeight: UnsafeMutablePointer<Float>) {
        let plane = outChannels * inChannels
        Parallel.forEach(plane, grain: 256) { range in
            for oi in range {
                @inline(__always) func row(_ a: Int) -> SIMD4<Float> {
                    SIMD4(s[(a * 4) * plane + oi], s[(a * 4 + 1) * plane + oi], s[(a * 4 + 2) * plane + oi], s[(a * 4 + 3) * plane + oi])
                }
                let s0 = row(0), s1 = row(1), s2 = row(2), s3 = row(3)
                // Gᵀ on rows: (s0 + (s1 + s2)/2, (s1 − s2)/2, (s1 + s2)/2 + s3); then on each row's columns.
                let w = dWeight + oi * 9
                @inline(__always) func put(_ a: Int, _ h: SIMD4<Float>) {
                    w[a * 3] += h[0] + 0.5 * (h[1] + h[2])
                    w[a * 3 + 1] += 0.5 * (h[1] - h[2])
                    w[a * 3 + 2] += 0.5 * (h[1] + h[2]) + h[3]
                }
                put(0, s0 + 0.5 * (s1 + s2)); put(1, 0.5 * (s1 - s2)); put(2, 0.5 * (s1 + s2) + s3)
            }
        }
    }
}
