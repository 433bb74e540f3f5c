import Foundation

/// Depthwise convolution (groups = in = out channels): one k×k filter per channel plane.
///
/// Every plane is first copied into a zero-padded scratch plane split into stride × stride phases (rows and
/// columns by their index modulo the stride: polyphase). In that layout tap (i, j) of output (oh, ow) is
/// element oh·W' + ow of a flat vector starting at the tap's offset (W' = a phase's width), whatever the
/// stride: so whole 16-wide vectors run across row ends — a 14×14 map is 14 vectors instead of 14 rows of
/// 8 + 4 + 2, a stride-2 map to 7×7 is 4 — and the few columns past each row's end are computed and dropped.
/// Pad cells are zeroed once per thread and never written again (the interior sits at the same place in
/// every plane), so a plane costs one copy of its values.
/// The same flat vectors serve the input gradient (at stride 1 a depthwise convolution of the padded output
/// gradient with the flipped filter; at other strides each phase plane gathered from the flat gradient over its own taps) and the
/// weight gradient (dot products of the flat output gradient with the padded input shifted by each tap).
/// Sums run in a fixed order, so results are bit-identical run to run for a given thread count.
public enum Depthwise {
    /// Whether planes whose rows have room for 16 outputs run two output rows at a time (`RowPairs`); off,
    /// every plane runs as flat vectors. On by default; tests compare the two paths bit for bit.
    nonisolated(unsafe) public static var rowPairs = true

    /// Whether a depthwise convolution's forward takes the row-pair path.
    public static func pairsRows(_ g: ConvGeometry) -> Bool {
        let (layout, offsets) = layout(g)
        return rowPairs && RowPairs(tapOffsets: offsets, rowStep: layout.phaseWidth, outH: g.outH, outW: g.outW) != nil
    }

    /// A plane's padded polyphase layout: `rowPhases` × `columnPhases` phase planes of `phaseRows` ×
    /// `phaseWidth`, plus slack so the last flat vector of any tap may read past the end.
    struct Layout {
        let height, width, padTop, padLeft: Int
        let rowPhases, columnPhases, phaseRows, phaseWidth: Int
        /// Outputs of one plane laid out flat (outH rows of `phaseWidth`), in 16-wide vectors.
        let flatVectors: Int
        private(set) var slack: Int
        var phasePlane: Int { phaseRows * phaseWidth }
        var floats: Int { rowPhases * columnPhases * phasePlane + slack }
        var flatFloats: Int { flatVectors * 16 }

        init(height: Int, width: Int, pads: (top: Int, bottom: Int, left: Int, right: Int), stride: (h: Int, w: Int),
             outH: Int, taps: [(row: Int, column: Int)]) {
            self.height = height; self.width = width; padTop = pads.top; padLeft = pads.left
            rowPhases = stride.h; columnPhases = stride.w
            phaseRows = (height + pads.top + pads.bottom + stride.h - 1) / stride.h
            phaseWidth = (width + pads.left + pads.right + stride.w - 1) / stride.w
            flatVectors = (outH * phaseWidth + 15) / 16
            slack = 0
            let reach = (taps.map { offset(row: $0.row, column: $0.column) }.max() ?? 0) + flatVectors * 16
            slack = max(0, reach - rowPhases * columnPhases * phasePlane)
        }

        /// Where tap (i, j) of output (0, 0) sits: padded row i, column j.
        func offset(row i: Int, column j: Int) -> Int {
            ((j % columnPhases) * rowPhases + i % rowPhases) * phasePlane + (i / rowPhases) * phaseWidth + j / columnPhases
        }

        /// The start of padded row `pr`'s values of column phase `phase`.
        @inline(__always) func rowStart(_ pr: Int, phase: Int) -> Int {
            (phase * rowPhases + pr % rowPhases) * phasePlane + (pr / rowPhases) * phaseWidth
        }

        /// Copies the interior of `src` (height × width) into `padded`; the pad cells keep their zeros.
        @inline(__always) func fill(_ padded: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>) {
            // Rows under 16 wide (7, 14), stride 1: one whole vector each instead of a copy call. Its lanes past
            // the row land on the pads between this row and the next and on the next row's values, which the
            // next row's vector overwrites; the last row is copied, and those pads are zeroed again at the end.
            // (A vector that would read past the plane's end is a copy too.)
            if columnPhases == 1 && width < 16 && width + phaseWidth >= 16 && height > 1 {
                for r in 0..<height {
                    let d = padded + rowStart(r + padTop, phase: 0) + padLeft
                    if r + 1 < height && r * width + 16 <= height * width { store16(load16(src + r * width), d) } else { d.update(from: src + r * width, count: width) }
                }
                for r in 0..<height - 1 {
                    let gap = padded + rowStart(r + padTop, phase: 0) + padLeft + width
                    for q in 0..<phaseWidth - width { gap[q] = 0 }
                }
                return
            }
            for r in 0..<height {
                let s = src + r * width, pr = r + padTop
                if columnPhases == 1 { (padded + rowStart(pr, phase: 0) + padLeft).update(from: s, count: width); continue }
                if columnPhases == 2 {
                    // Even and odd source columns to their phases, 32 at a time.
                    let even = padded + rowStart(pr, phase: padLeft % 2) + padLeft / 2
                    let odd = padded + rowStart(pr, phase: (padLeft + 1) % 2) + (padLeft + 1) / 2
                    var c = 0
                    while c + 32 <= width {
                        let v = load32(s + c)
                        store16(v.evenHalf, even + c / 2); store16(v.oddHalf, odd + c / 2); c += 32
                    }
                    while c + 1 < width { even[c / 2] = s[c]; odd[c / 2] = s[c + 1]; c += 2 }
                    if c < width { even[c / 2] = s[c] }
                    continue
                }
                for phase in 0..<columnPhases {
                    // Columns whose padded index is ≡ phase (mod stride).
                    let first = ((phase - padLeft) % columnPhases + columnPhases) % columnPhases
                    guard first < width else { continue }
                    let dst = padded + rowStart(pr, phase: phase) + (first + padLeft) / columnPhases
                    var k = 0, col = first
                    while col < width { dst[k] = s[col]; k += 1; col += columnPhases }
                }
            }
        }

        /// The inverse of `fill`: the interior of `padded` into `dst` (height × width); the pad cells are dropped.
        @inline(__always) func extract(_ padded: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
            for r in 0..<height {
                let d = dst + r * width, pr = r + padTop
                if columnPhases == 1 { d.update(from: padded + rowStart(pr, phase: 0) + padLeft, count: width); continue }
                for phase in 0..<columnPhases {
                    let first = ((phase - padLeft) % columnPhases + columnPhases) % columnPhases
                    guard first < width else { continue }
                    let src = padded + rowStart(pr, phase: phase) + (first + padLeft) / columnPhases
                    var k = 0, col = first
                    while col < width { d[col] = src[k]; k += 1; col += columnPhases }
                }
            }
        }

        /// `rows` rows of `src` (row stride `width`, `count` values each) into the flat layout (row stride
        /// `phaseWidth`); what lies past each row's end stays as it is (zero once the buffer was zeroed).
        @inline(__always) func flatten(_ src: UnsafePointer<Float>, rows: Int, count: Int, into flat: UnsafeMutablePointer<Float>) {
            for r in 0..<rows { (flat + r * phaseWidth).update(from: src + r * count, count: count) }
        }
    }

    // MARK: forward

    static func taps(_ g: ConvGeometry) -> [(row: Int, column: Int)] {
        (0..<g.kernelH * g.kernelW).map { t in (row: (t / g.kernelW) * g.dilationH, column: (t % g.kernelW) * g.dilationW) }
    }

    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, activation: Activation) {
        let kk = g.kernelH * g.kernelW
        planes(g.batch * g.inChannels, height: g.height, width: g.width, outH: g.outH, outW: g.outW,
               pads: (g.padTop, g.padBottom, g.padLeft, g.padRight), stride: (g.strideH, g.strideW), taps: taps(g),
               x: x, y: y, weights: { weight + ($0 % g.inChannels) * kk }, bias: { bias?[$0 % g.inChannels] ?? 0 }, activation: activation)
    }

    /// `count` planes of `x` convolved into `y`: plane p with the filter `weights(p)` (taps in `taps` order)
    /// plus `bias(p)`, then `activation`.
    static func planes(_ count: Int, height: Int, width: Int, outH: Int, outW: Int, pads: (top: Int, bottom: Int, left: Int, right: Int),
                       stride: (h: Int, w: Int), taps: [(row: Int, column: Int)], x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                       weights: (Int) -> UnsafePointer<Float>, bias: (Int) -> Float, activation: Activation) {
        let plan = PlanePlan(height: height, width: width, outH: outH, outW: outW, pads: pads, stride: stride, taps: taps)
        let threads = min(Parallel.cores, count)
        Workspace.shared.with(plan.scratchFloats * threads) { scratch in
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let padded = scratch + t * plan.scratchFloats
                padded.update(repeating: 0, count: plan.scratchFloats)
                plan.run(count * t / threads..<count * (t + 1) / threads, scratch: padded, x: x, y: y, weights: weights, bias: bias, activation: activation)
            }
        }
    }

    /// Everything about one plane shape that `planes` works out once: the padded layout, the taps' offsets in
    /// it, the row-pair plan, and the scratch one thread needs (`scratchFloats`, zeroed before its first plane).
    public struct PlanePlan {
        let layout: Layout
        let tapOffsets: [Int]
        let pairs: RowPairs?
        let outH, outW: Int
        /// The second row of the last pair reads and writes up to one vector past the flat outputs.
        public var scratchFloats: Int { layout.floats + layout.flatFloats + 2 * layout.phaseWidth + 32 }

        init(height: Int, width: Int, outH: Int, outW: Int, pads: (top: Int, bottom: Int, left: Int, right: Int),
             stride: (h: Int, w: Int), taps: [(row: Int, column: Int)]) {
            layout = Layout(height: height, width: width, pads: pads, stride: stride, outH: outH, taps: taps)
            tapOffsets = taps.map { [layout] in layout.offset(row: $0.row, column: $0.column) }
            pairs = rowPairs ? RowPairs(tapOffsets: tapOffsets, rowStep: layout.phaseWidth, outH: outH, outW: outW) : nil
            self.outH = outH; self.outW = outW
        }

        /// The plan of a depthwise convolution's forward.
        public init(_ g: ConvGeometry) {
            self.init(height: g.height, width: g.width, outH: g.outH, outW: g.outW, pads: (g.padTop, g.padBottom, g.padLeft, g.padRight),
                      stride: (g.strideH, g.strideW), taps: Depthwise.taps(g))
        }

        /// Planes `range` on the calling thread, with `scratch` (`scratchFloats`, its pad cells zero).
        public func run(_ range: Range<Int>, scratch padded: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                        weights: (Int) -> UnsafePointer<Float>, bias: (Int) -> Float, activation: Activation) {
            let out = padded + layout.floats
            let inPlane = layout.height * layout.width, outPlane = outH * outW
            (pairs?.loads ?? tapOffsets).withUnsafeBufferPointer { pairLoads in
            tapOffsets.withUnsafeBufferPointer { tap in
                for p in range {
                    layout.fill(padded, from: x + p * inPlane)
                    let w = weights(p), b = bias(p), yp = y + p * outPlane
                    if let pairs {
                        var r = 0
                        while r + 1 < outH {
                            pairs.pair(padded, out: out, row: r, rowWidth: layout.phaseWidth, outW: outW, bias: b, w: w, load: pairLoads.baseAddress!)
                            r += 2
                        }
                        var c = 0
                        while r < outH && c < outW {   // an odd last row alone
                            let q = r * layout.phaseWidth + c
                            store16(tapSum(padded + q, bias: b, w: w, tap: tap), out + q)
                            c += 16
                        }
                    } else {
                        var v = 0
                        while v + 4 <= layout.flatVectors { tapSums4(padded + 16 * v, bias: b, w: w, tap: tap, into: out + 16 * v); v += 4 }
                        while v < layout.flatVectors { store16(tapSum(padded + 16 * v, bias: b, w: w, tap: tap), out + 16 * v); v += 1 }
                    }
                    if outW < 16, let clamp = Activation.Clamp(orIdentity: activation) ?? (activation == .silu || activation == .sigmoid ? Activation.Clamp.none : nil) {
                        // Rows of 7 or 14: a call per row to copy them out cost more than the taps at 7×7.
                        // Each row goes out as one whole vector; its lanes past the row's end land on later
                        // rows, which are written after and overwrite them. Rows whose vector would pass the
                        // plane's end go out value by value.
                        for oh in 0..<outH {
                            if oh * outW + 16 <= outPlane {
                                store16(clamp.lanes(load16(out + oh * layout.phaseWidth)), yp + oh * outW)
                            } else {
                                clamp.apply(out + oh * layout.phaseWidth, into: yp + oh * outW, count: outW)
                            }
                        }
                        if activation == .silu || activation == .sigmoid { activation.apply(from: yp, to: yp, count: outPlane) }
                    } else if activation == .silu || activation == .sigmoid {
                        // Rows of 16 or more: copy them out, then run the activation over the whole plane in
                        // full vectors. (Clamps stay per row: their loops vectorise with tails of their own, and
                        // the extra pass cost Lite0 ~4 % when tried.)
                        for oh in 0..<outH { (yp + oh * outW).update(from: out + oh * layout.phaseWidth, count: outW) }
                        activation.apply(from: yp, to: yp, count: outPlane)
                    } else {
                        for oh in 0..<outH { activation.apply(from: out + oh * layout.phaseWidth, to: yp + oh * outW, count: outW) }
                    }
                }
            }
            }
        }
    }

    /// One vector of 16 flat outputs starting at `base`: the bias plus every tap, in tap order.
    @inline(__always) static func tapSum(_ base: UnsafePointer<Float>, bias: Float, w: UnsafePointer<Float>,
                                         tap: UnsafeBufferPointer<Int>) -> SIMD16<Float> {
        var acc = SIMD16<Float>(repeating: bias)
        for k in 0..<tap.count { acc.addProduct(SIMD16(repeating: w[k]), load16(base + tap[k])) }
        return acc
    }

    /// Four consecutive vectors of `tapSum` (64 flat outputs), each summed in tap order as `tapSum` sums it. One
    /// vector's sum is a chain of dependent multiply-adds, one per tap, so it runs at their latency; four chains
    /// keep both FMA units busy and share each weight broadcast.
    @inline(__always) static func tapSums4(_ base: UnsafePointer<Float>, bias: Float, w: UnsafePointer<Float>,
                                           tap: UnsafeBufferPointer<Int>, into out: UnsafeMutablePointer<Float>) {
        var a0 = SIMD16<Float>(repeating: bias), a1 = a0, a2 = a0, a3 = a0
        for k in 0..<tap.count {
            let wk = SIMD16<Float>(repeating: w[k]), p = base + tap[k]
            a0.addProduct(wk, load16(p)); a1.addProduct(wk, load16(p + 16)); a2.addProduct(wk, load16(p + 32)); a3.addProduct(wk, load16(p + 48))
        }
        store16(a0, out); store16(a1, out + 16); store16(a2, out + 32); store16(a3, out + 48)
    }

    /// Two output rows at once. Output (r + 1, c) reads tap t at the flat offset tap(t) + rowStep from output
    /// (r, c)'s position, which for most taps is where a later tap of row r reads (at stride 1 tap (i + 1, j),
    /// at stride 2 tap (i + 2, j)). So one load of each distinct offset feeds both rows' sums: a 3×3 filter
    /// needs 12 loads for 32 outputs instead of 18, a 5×5 30 instead of 50 — the flat loop is bound by its
    /// unaligned loads, not by its multiply-adds. Each sum still adds its taps in tap order with the same
    /// multiply-adds, so every output is bit-identical to the flat loop's.
    struct RowPairs {
        /// Offsets in the order they are loaded: the taps in tap order, then the second row's offsets that no
        /// tap of the first row reads.
        let loads: [Int]
        /// loads[0..<firstOnly] feed the first row only, loads[firstOnly..<taps] both rows, the rest the second;
        /// load i ≥ firstOnly is the second row's tap i − firstOnly.
        let firstOnly, taps: Int

        /// nil when pairs would not pay or cannot keep tap order: fewer than two rows, rows too short or too far
        /// from a multiple of 16 (the flat loop runs across row ends and fills every lane; pairs round each row up
        /// to 16 lanes — 7×7 maps, or 17 outputs in a row of 18, stay flat), or taps whose second-row sums
        /// could not go in tap order (3×3 at stride 3, say).
        init?(tapOffsets: [Int], rowStep: Int, outH: Int, outW: Int) {
            guard outH >= 2, rowStep >= 16 else { return nil }
            var loads = tapOffsets, second = [Int](repeating: -1, count: tapOffsets.count)
            for (k, o) in tapOffsets.enumerated() {
                if let i = tapOffsets.firstIndex(of: o + rowStep) { second[i] = k } else { loads.append(o + rowStep); second.append(k) }
            }
            guard let firstShared = second.firstIndex(where: { $0 >= 0 }) else { return nil }
            // The second row's taps must come in tap order along the loads, with no gap after the first shared one.
            guard Array(second[firstShared...]) == Array(0..<tapOffsets.count) else { return nil }
            // Loads per pair of rows against the flat loop's taps per 2·rowStep outputs.
            let lanes = (outW + 15) / 16 * 16
            guard lanes * loads.count < 2 * rowStep * tapOffsets.count else { return nil }
            self.loads = loads; firstOnly = firstShared; taps = tapOffsets.count
        }

        /// Rows r and r + 1 of one plane's flat outputs (r + 1 < outH), 16 columns at a time.
        @inline(__always) func pair(_ padded: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, row r: Int,
                                    rowWidth: Int, outW: Int, bias: Float, w: UnsafePointer<Float>, load: UnsafePointer<Int>) {
            var c = 0
            while c < outW {
                let q = r * rowWidth + c, base = padded + q
                var acc0 = SIMD16<Float>(repeating: bias), acc1 = acc0
                for i in 0..<firstOnly { acc0.addProduct(SIMD16(repeating: w[i]), load16(base + load[i])) }
                for i in firstOnly..<taps {
                    let v = load16(base + load[i])
                    acc0.addProduct(SIMD16(repeating: w[i]), v)
                    acc1.addProduct(SIMD16(repeating: w[i - firstOnly]), v)
                }
                for i in taps..<loads.count { acc1.addProduct(SIMD16(repeating: w[i - firstOnly]), load16(base + load[i])) }
                store16(acc0, out + q); store16(acc1, out + q + rowWidth)
                c += 16
            }
        }
    }

    // MARK: backward

    static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?) {
        if let dx {
            // At stride 1, dx = dy (padded by the window's reach minus the forward padding) ⋆ the flipped filter.
            let reachH = (g.kernelH - 1) * g.dilationH, reachW = (g.kernelW - 1) * g.dilationW
            let top = reachH - g.padTop, left = reachW - g.padLeft
            let bottom = g.height + reachH - top - g.outH, right = g.width + reachW - left - g.outW
            if g.strideH == 1 && g.strideW == 1 && min(top, left, bottom, right) >= 0 {
                let kk = g.kernelH * g.kernelW, C = g.inChannels
                var flipped = [Float](repeating: 0, count: C * kk)
                for c in 0..<C { for t in 0..<kk { flipped[c * kk + t] = weight[c * kk + kk - 1 - t] } }
                flipped.withUnsafeBufferPointer { f in
                    planes(g.batch * C, height: g.outH, width: g.outW, outH: g.height, outW: g.width, pads: (top, bottom, left, right),
                           stride: (1, 1), taps: taps(g), x: dy, y: dx, weights: { f.baseAddress! + ($0 % C) * kk }, bias: { _ in 0 }, activation: .identity)
                }
            } else {
                scatteredInputGradient(g, weight: weight, dy: dy, dx: dx)
            }
        }
        if let dWeight { weightGradient(g, x: x, dy: dy, dWeight: dWeight) }
    }

    static func layout(_ g: ConvGeometry) -> (Layout, [Int]) {
        let taps = taps(g)
        let layout = Layout(height: g.height, width: g.width, pads: (g.padTop, g.padBottom, g.padLeft, g.padRight),
                            stride: (g.strideH, g.strideW), outH: g.outH, taps: taps)
        return (layout, taps.map { layout.offset(row: $0.row, column: $0.column) })
    }

    /// For each channel, the flat output gradient (zeros past each row's end) against the padded input
    /// shifted by each tap, summed over the batch in image order.
    static func weightGradient(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>) {
        let kk = g.kernelH * g.kernelW, C = g.inChannels
        let (layout, tapOffsets) = layout(g)
        let perThread = layout.floats + layout.flatFloats
        let threads = min(Parallel.cores, C)
        let inPlane = g.height * g.width, outPlane = g.outH * g.outW
        Workspace.shared.with(perThread * threads) { scratch in
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let padded = scratch + t * perThread, flatDy = padded + layout.floats
                padded.update(repeating: 0, count: perThread)
                // Per tap, 16 lanes of partial sums over the whole batch, added across lanes once per channel.
                let sums = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: kk)
                defer { sums.deallocate() }
                tapOffsets.withUnsafeBufferPointer { tap in
                    for c in C * t / threads..<C * (t + 1) / threads {
                        sums.initialize(repeating: .zero, count: kk)
                        for n in 0..<g.batch {
                            let plane = n * C + c
                            layout.fill(padded, from: x + plane * inPlane)
                            layout.flatten(dy + plane * outPlane, rows: g.outH, count: g.outW, into: flatDy)
                            // Five taps at a time share each load of the flat gradient (four for the last group of
                            // four): 1.2 loads per multiply-add instead of 2. Each tap's sum still runs over the
                            // vectors in order, so the result is the same bit for bit.
                            var k = 0
                            while k + 5 <= kk { tapDots5(flatDy, padded, tap, k, layout.flatVectors, sums); k += 5 }
                            if kk - k == 4 { tapDots4(flatDy, padded, tap, k, layout.flatVectors, sums); k += 4 }
                            while k < kk {
                                var acc = sums[k]
                                let shifted = padded + tap[k]
                                for v in 0..<layout.flatVectors { acc.addProduct(load16(flatDy + 16 * v), load16(shifted + 16 * v)) }
                                sums[k] = acc; k += 1
                            }
                        }
                        for k in 0..<kk { dWeight[c * kk + k] += sums[k].sum() }
                    }
                }
            }
        }
    }

    /// sums[k + i] += Σ_v flat[v] · padded[tap[k + i] + v], i < 5, each over the vectors in order.
    @inline(__always) static func tapDots5(_ flat: UnsafePointer<Float>, _ padded: UnsafePointer<Float>, _ tap: UnsafeBufferPointer<Int>,
                                           _ k: Int, _ vectors: Int, _ sums: UnsafeMutablePointer<SIMD16<Float>>) {
        var a0 = sums[k], a1 = sums[k + 1], a2 = sums[k + 2], a3 = sums[k + 3], a4 = sums[k + 4]
        let p0 = padded + tap[k], p1 = padded + tap[k + 1], p2 = padded + tap[k + 2], p3 = padded + tap[k + 3], p4 = padded + tap[k + 4]
        for v in 0..<vectors {
            let d = load16(flat + 16 * v), o = 16 * v
            a0.addProduct(d, load16(p0 + o)); a1.addProduct(d, load16(p1 + o)); a2.addProduct(d, load16(p2 + o))
            a3.addProduct(d, load16(p3 + o)); a4.addProduct(d, load16(p4 + o))
        }
        sums[k] = a0; sums[k + 1] = a1; sums[k + 2] = a2; sums[k + 3] = a3; sums[k + 4] = a4
    }

    /// `tapDots5` for four taps.
    @inline(__always) static func tapDots4(_ flat: UnsafePointer<Float>, _ padded: UnsafePointer<Float>, _ tap: UnsafeBufferPointer<Int>,
                                           _ k: Int, _ vectors: Int, _ sums: UnsafeMutablePointer<SIMD16<Float>>) {
        var a0 = sums[k], a1 = sums[k + 1], a2 = sums[k + 2], a3 = sums[k + 3]
        let p0 = padded + tap[k], p1 = padded + tap[k + 1], p2 = padded + tap[k + 2], p3 = padded + tap[k + 3]
        for v in 0..<vectors {
            let d = load16(flat + 16 * v), o = 16 * v
            a0.addProduct(d, load16(p0 + o)); a1.addProduct(d, load16(p1 + o)); a2.addProduct(d, load16(p2 + o)); a3.addProduct(d, load16(p3 + o))
        }
        sums[k] = a0; sums[k + 1] = a1; sums[k + 2] = a2; sums[k + 3] = a3
    }

    /// Strides above 1 (and padding beyond the window's reach): the gradient of each padded input is gathered
    /// from the outputs that read it. Tap (i, j) reads one phase plane of the padded layout at a fixed offset
    /// from the flat output position, so each phase plane is a sum over its own taps of the flat output
    /// gradient shifted back by their offsets: 16 values per vector kept in a register across the taps and
    /// stored once (adding each tap into the padded layout instead stored every vector once per tap, and the
    /// next tap's load, one element over, waited on that store). Each value sums its taps in tap order from
    /// zero, as the scatter did. The phase planes' interior is then copied out.
    static func scatteredInputGradient(_ g: ConvGeometry, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let kk = g.kernelH * g.kernelW, C = g.inChannels
        let (layout, tapOffsets) = layout(g)
        let plane = layout.phasePlane, phases = layout.rowPhases * layout.columnPhases
        // Each phase plane's taps in tap order, with their offsets inside it.
        var phaseTaps = [[(tap: Int, offset: Int)]](repeating: [], count: phases)
        for k in 0..<kk { phaseTaps[tapOffsets[k] / plane].append((k, tapOffsets[k] % plane)) }
        let vectors = (plane + 15) / 16
        // The flat gradient sits after `margin` zeros (the largest offset, read back from position 0) and is
        // followed by zeros up to the last vector of a phase plane.
        let margin = ((phaseTaps.flatMap { $0.map(\.offset) }.max() ?? 0) + 15) / 16 * 16
        let flatFloats = margin + max(vectors * 16, layout.flatFloats)
        let phasedFloats = phases * plane + 16   // the last plane's last vector runs past its end
        let threads = min(Parallel.cores, g.batch * C), perThread = phasedFloats + flatFloats
        let inPlane = g.height * g.width, outPlane = g.outH * g.outW
        Workspace.shared.with(perThread * threads) { scratch in
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let phased = scratch + t * perThread, flat = phased + phasedFloats + margin
                (flat - margin).update(repeating: 0, count: flatFloats)
                var weights = [SIMD16<Float>](repeating: .zero, count: kk)
                for p in g.batch * C * t / threads..<g.batch * C * (t + 1) / threads {
                    let w = weight + (p % C) * kk
                    for k in 0..<kk { weights[k] = SIMD16(repeating: w[k]) }
                    layout.flatten(dy + p * outPlane, rows: g.outH, count: g.outW, into: flat)
                    for (phase, taps) in phaseTaps.enumerated() {
                        let dst = phased + phase * plane
                        var v = 0
                        while v + 2 <= vectors {
                            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>()
                            for (k, offset) in taps {
                                let src = flat + 16 * v - offset
                                a0.addProduct(weights[k], load16(src)); a1.addProduct(weights[k], load16(src + 16))
                            }
                            store16(a0, dst + 16 * v); store16(a1, dst + 16 * v + 16); v += 2
                        }
                        if v < vectors {
                            var a0 = SIMD16<Float>()
                            for (k, offset) in taps { a0.addProduct(weights[k], load16(flat + 16 * v - offset)) }
                            store16(a0, dst + 16 * v)
                        }
                    }
                    layout.extract(phased, into: dx + p * inPlane)
                }
            }
        }
    }
}
