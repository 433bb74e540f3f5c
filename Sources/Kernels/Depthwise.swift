import Foundation

/// Depthwise convolution (groups = in = out channels): one k×k filter per channel plane.
///
/// Every plane is first copied into a zero-padded scratch plane split into `stride` column phases, so each
/// tap of each output reads a contiguous run with no bounds checks. Pad cells are zeroed once per thread and
/// never written again (the interior sits at the same place in every plane), so a plane costs one row copy.
///
/// Stride 1 computes in the padded plane's own coordinates: output (oh, ow) is element oh·W' + ow of a flat
/// vector (W' = padded width), so whole 16-wide vectors run across row ends — a 14×14 map is 14 vectors
/// instead of 14 rows of 8 + 4 + 2 — and the few columns past each row's end are computed and dropped.
/// The same trick serves the input gradient (a stride-1 depthwise convolution of the padded output gradient
/// with the flipped filter) and the weight gradient (dot products of the flat output gradient with the
/// padded input shifted by each tap). Other strides go row by row with 16-, 8- and 4-wide vectors.
/// Sums run in a fixed order, so results are bit-identical run to run for a given thread count.
enum Depthwise {
    /// A plane's padded layout: `phases` column phases of `rows` × `phaseWidth`, plus slack so the last
    /// vector of the flat stride-1 loop may read past the end.
    struct Layout {
        let rows, phaseWidth, phases, padTop, padLeft, height, width: Int
        let slack: Int
        var floats: Int { phases * rows * phaseWidth + slack }

        init(height: Int, width: Int, padTop: Int, padBottom: Int, padLeft: Int, padRight: Int, stride: Int, slack: Int) {
            self.height = height; self.width = width; self.padTop = padTop; self.padLeft = padLeft
            rows = height + padTop + padBottom
            phases = stride
            phaseWidth = (width + padLeft + padRight + stride - 1) / stride
            self.slack = slack
        }

        /// Where tap (i, j) of output (0, 0) sits.
        func tap(row i: Int, column col: Int) -> Int { ((col % phases) * rows + i) * phaseWidth + col / phases }

        /// Copies the interior of `src` (height × width) into `padded`; the pad cells keep their zeros.
        @inline(__always) func fill(_ padded: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>) {
            if phases == 1 {
                for r in 0..<height { (padded + (r + padTop) * phaseWidth + padLeft).update(from: src + r * width, count: width) }
                return
            }
            for r in 0..<height {
                let s = src + r * width
                for phase in 0..<phases {
                    // Columns whose padded index is ≡ phase (mod stride).
                    let first = ((phase - padLeft) % phases + phases) % phases
                    guard first < width else { continue }
                    let dst = padded + (phase * rows + r + padTop) * phaseWidth + (first + padLeft) / phases
                    var k = 0, col = first
                    while col < width { dst[k] = s[col]; k += 1; col += phases }
                }
            }
        }

        /// The inverse of `fill`: the interior of `padded` into `dst` (height × width); the pad cells are dropped.
        @inline(__always) func extract(_ padded: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
            for r in 0..<height {
                let d = dst + r * width
                if phases == 1 { d.update(from: padded + (r + padTop) * phaseWidth + padLeft, count: width); continue }
                for phase in 0..<phases {
                    let first = ((phase - padLeft) % phases + phases) % phases
                    guard first < width else { continue }
                    let src = padded + (phase * rows + r + padTop) * phaseWidth + (first + padLeft) / phases
                    var k = 0, col = first
                    while col < width { d[col] = src[k]; k += 1; col += phases }
                }
            }
        }
    }

    // MARK: forward

    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, activation: Activation) {
        let kk = g.kernelH * g.kernelW
        let taps = (0..<kk).map { t in (row: (t / g.kernelW) * g.dilationH, column: (t % g.kernelW) * g.dilationW) }
        planes(g.batch * g.inChannels, height: g.height, width: g.width, outH: g.outH, outW: g.outW,
               pads: (g.padTop, g.padBottom, g.padLeft, g.padRight), stride: (g.strideH, g.strideW), taps: taps,
               x: x, y: y, weights: { weight + ($0 % g.inChannels) * kk }, bias: { bias?[$0 % g.inChannels] ?? 0 }, activation: activation)
    }

    /// `count` planes of `x` convolved into `y`: plane p with the filter `weights(p)` (taps in `taps` order)
    /// plus `bias(p)`, then `activation`.
    static func planes(_ count: Int, height: Int, width: Int, outH: Int, outW: Int, pads: (top: Int, bottom: Int, left: Int, right: Int),
                       stride: (h: Int, w: Int), taps: [(row: Int, column: Int)], x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                       weights: (Int) -> UnsafePointer<Float>, bias: (Int) -> Float, activation: Activation) {
        let flat = stride.h == 1 && stride.w == 1
        let maxTap = taps.map { $0.row * (width + pads.left + pads.right) + $0.column }.max() ?? 0
        let layout = Layout(height: height, width: width, padTop: pads.top, padBottom: pads.bottom, padLeft: pads.left, padRight: pads.right,
                            stride: stride.w, slack: flat ? maxTap + 16 : 0)
        let tapOffsets = taps.map { layout.tap(row: $0.row, column: $0.column) }
        let flatCount = outH * layout.phaseWidth, flatVectors = (flatCount + 15) / 16
        let perThread = layout.floats + (flat ? flatVectors * 16 : 0)
        let threads = min(Parallel.cores, count)
        let inPlane = height * width, outPlane = outH * outW
        Workspace.shared.with(perThread * threads) { scratch in
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let padded = scratch + t * perThread, out = padded + layout.floats
                padded.update(repeating: 0, count: perThread)
                tapOffsets.withUnsafeBufferPointer { tap in
                    for p in count * t / threads..<count * (t + 1) / threads {
                        layout.fill(padded, from: x + p * inPlane)
                        let w = weights(p), b = bias(p), yp = y + p * outPlane
                        if flat {
                            for v in 0..<flatVectors {
                                var acc = SIMD16<Float>(repeating: b)
                                let base = padded + 16 * v
                                for k in 0..<tap.count { acc.addProduct(SIMD16(repeating: w[k]), load16(base + tap[k])) }
                                store16(acc, out + 16 * v)
                            }
                            for oh in 0..<outH { apply(activation, from: out + oh * layout.phaseWidth, to: yp + oh * outW, count: outW) }
                        } else {
                            for oh in 0..<outH {
                                rowForward(base: padded + oh * stride.h * layout.phaseWidth, tap: tap, w: w, b: b, y: yp + oh * outW, count: outW)
                                apply(activation, from: yp + oh * outW, to: yp + oh * outW, count: outW)
                            }
                        }
                    }
                }
            }
        }
    }

    /// One output row of a strided convolution: 16-, 8-, 4-wide vectors, then single values.
    @inline(__always)
    static func rowForward(base: UnsafePointer<Float>, tap: UnsafeBufferPointer<Int>, w: UnsafePointer<Float>, b: Float,
                           y: UnsafeMutablePointer<Float>, count: Int) {
        var ow = 0
        while ow + 16 <= count {
            var acc = SIMD16<Float>(repeating: b)
            for k in 0..<tap.count { acc.addProduct(SIMD16(repeating: w[k]), load16(base + tap[k] + ow)) }
            store16(acc, y + ow); ow += 16
        }
        if ow + 8 <= count {
            var acc = SIMD8<Float>(repeating: b)
            for k in 0..<tap.count { acc.addProduct(SIMD8(repeating: w[k]), UnsafeRawPointer(base + tap[k] + ow).loadUnaligned(as: SIMD8<Float>.self)) }
            UnsafeMutableRawPointer(y + ow).storeBytes(of: acc, as: SIMD8<Float>.self); ow += 8
        }
        if ow + 4 <= count {
            var acc = SIMD4<Float>(repeating: b)
            for k in 0..<tap.count { acc.addProduct(SIMD4(repeating: w[k]), UnsafeRawPointer(base + tap[k] + ow).loadUnaligned(as: SIMD4<Float>.self)) }
            UnsafeMutableRawPointer(y + ow).storeBytes(of: acc, as: SIMD4<Float>.self); ow += 4
        }
        while ow < count {
            var acc = b
            for k in 0..<tap.count { acc = acc.addingProduct(w[k], base[tap[k] + ow]) }
            y[ow] = acc; ow += 1
        }
    }

    /// `dst[i] = activation(src[i])`; src and dst may be the same.
    @inline(__always)
    static func apply(_ activation: Activation, from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .identity: if UnsafePointer(dst) != src { dst.update(from: src, count: count) }
        case .relu: for q in 0..<count { dst[q] = max(src[q], 0) }
        case .relu6: for q in 0..<count { dst[q] = min(max(src[q], 0), 6) }
        case .silu: for q in 0..<count { let v = src[q]; dst[q] = v / (1 + fastExp(-v)) }
        default: for q in 0..<count { dst[q] = activation.value(src[q]) }
        }
    }

    // MARK: backward

    static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?) {
        let stride1 = g.strideH == 1 && g.strideW == 1
        if let dx {
            // dx = dy (padded by the window's reach minus the forward padding) ⋆ the flipped filter.
            let reachH = (g.kernelH - 1) * g.dilationH, reachW = (g.kernelW - 1) * g.dilationW
            let top = reachH - g.padTop, left = reachW - g.padLeft
            let bottom = g.height + reachH - top - g.outH, right = g.width + reachW - left - g.outW
            if stride1 && min(top, left, bottom, right) >= 0 {
                let kk = g.kernelH * g.kernelW, C = g.inChannels
                var flipped = [Float](repeating: 0, count: C * kk)
                for c in 0..<C { for t in 0..<kk { flipped[c * kk + t] = weight[c * kk + kk - 1 - t] } }
                let taps = (0..<kk).map { t in (row: (t / g.kernelW) * g.dilationH, column: (t % g.kernelW) * g.dilationW) }
                flipped.withUnsafeBufferPointer { f in
                    planes(g.batch * C, height: g.outH, width: g.outW, outH: g.height, outW: g.width, pads: (top, bottom, left, right),
                           stride: (1, 1), taps: taps, x: dy, y: dx, weights: { f.baseAddress! + ($0 % C) * kk }, bias: { _ in 0 }, activation: .identity)
                }
            } else {
                stridedInputGradient(g, weight: weight, dy: dy, dx: dx)
            }
        }
        if let dWeight {
            if stride1 { flatWeightGradient(g, x: x, dy: dy, dWeight: dWeight) } else { stridedWeightGradient(g, x: x, dy: dy, dWeight: dWeight) }
        }
    }

    /// Stride 1: for each channel, the flat output gradient (row width W', zeros past each row's end) against
    /// the padded input shifted by each tap, summed over the batch in image order.
    static func flatWeightGradient(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>) {
        let kk = g.kernelH * g.kernelW, C = g.inChannels
        let taps = (0..<kk).map { t in (row: (t / g.kernelW) * g.dilationH, column: (t % g.kernelW) * g.dilationW) }
        let maxTap = taps.map { $0.row * (g.width + g.padLeft + g.padRight) + $0.column }.max() ?? 0
        let layout = Layout(height: g.height, width: g.width, padTop: g.padTop, padBottom: g.padBottom, padLeft: g.padLeft, padRight: g.padRight,
                            stride: 1, slack: maxTap + 16)
        let tapOffsets = taps.map { layout.tap(row: $0.row, column: $0.column) }
        let flatVectors = (g.outH * layout.phaseWidth + 15) / 16
        let perThread = layout.floats + flatVectors * 16
        let threads = min(Parallel.cores, C)
        let inPlane = g.height * g.width, outPlane = g.outH * g.outW
        Workspace.shared.with(perThread * threads) { scratch in
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let padded = scratch + t * perThread, flatDy = padded + layout.floats
                padded.update(repeating: 0, count: perThread)
                var sums = [Float](repeating: 0, count: kk)
                tapOffsets.withUnsafeBufferPointer { tap in
                    for c in C * t / threads..<C * (t + 1) / threads {
                        for k in 0..<kk { sums[k] = 0 }
                        for n in 0..<g.batch {
                            let plane = n * C + c
                            layout.fill(padded, from: x + plane * inPlane)
                            let d = dy + plane * outPlane
                            for oh in 0..<g.outH { (flatDy + oh * layout.phaseWidth).update(from: d + oh * g.outW, count: g.outW) }
                            for k in 0..<kk {
                                var acc = SIMD16<Float>()
                                let shifted = padded + tap[k]
                                for v in 0..<flatVectors { acc.addProduct(load16(flatDy + 16 * v), load16(shifted + 16 * v)) }
                                sums[k] += acc.sum()
                            }
                        }
                        for k in 0..<kk { dWeight[c * kk + k] += sums[k] }
                    }
                }
            }
        }
    }

    /// Strides above 1, in the phase-split padded layout where every tap of an output row is a contiguous
    /// run: dx accumulates there (a scaled add per row and tap, vectorised), then its interior is copied out.
    static func stridedInputGradient(_ g: ConvGeometry, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let kk = g.kernelH * g.kernelW, C = g.inChannels
        let (layout, tapOffsets) = stridedLayout(g)
        let threads = min(Parallel.cores, g.batch * C), perThread = layout.floats
        let inPlane = g.height * g.width, outPlane = g.outH * g.outW, rowStep = g.strideH * layout.phaseWidth
        Workspace.shared.with(perThread * threads) { scratch in
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let padded = scratch + t * perThread
                tapOffsets.withUnsafeBufferPointer { tap in
                    for p in g.batch * C * t / threads..<g.batch * C * (t + 1) / threads {
                        padded.update(repeating: 0, count: perThread)
                        let w = weight + (p % C) * kk, d = dy + p * outPlane
                        for oh in 0..<g.outH {
                            let row = d + oh * g.outW, base = padded + oh * rowStep
                            for k in 0..<kk { axpy(w[k], row, base + tap[k], count: g.outW) }
                        }
                        layout.extract(padded, into: dx + p * inPlane)
                    }
                }
            }
        }
    }

    /// Strides above 1: per channel, dot products of each output-gradient row with the contiguous input run
    /// each tap reads, summed over rows and images in order.
    static func stridedWeightGradient(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dWeight: UnsafeMutablePointer<Float>) {
        let kk = g.kernelH * g.kernelW, C = g.inChannels
        let (layout, tapOffsets) = stridedLayout(g)
        let threads = min(Parallel.cores, C), perThread = layout.floats
        let inPlane = g.height * g.width, outPlane = g.outH * g.outW, rowStep = g.strideH * layout.phaseWidth
        Workspace.shared.with(perThread * threads) { scratch in
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let padded = scratch + t * perThread
                padded.update(repeating: 0, count: perThread)
                var sums = [Float](repeating: 0, count: kk)
                tapOffsets.withUnsafeBufferPointer { tap in
                    for c in C * t / threads..<C * (t + 1) / threads {
                        for k in 0..<kk { sums[k] = 0 }
                        for n in 0..<g.batch {
                            let plane = n * C + c
                            layout.fill(padded, from: x + plane * inPlane)
                            let d = dy + plane * outPlane
                            for k in 0..<kk {
                                var s: Float = 0
                                for oh in 0..<g.outH { s += Reduce.dot(d + oh * g.outW, padded + oh * rowStep + tap[k], count: g.outW) }
                                sums[k] += s
                            }
                        }
                        for k in 0..<kk { dWeight[c * kk + k] += sums[k] }
                    }
                }
            }
        }
    }

    static func stridedLayout(_ g: ConvGeometry) -> (Layout, [Int]) {
        let layout = Layout(height: g.height, width: g.width, padTop: g.padTop, padBottom: g.padBottom, padLeft: g.padLeft, padRight: g.padRight,
                            stride: g.strideW, slack: 0)
        let taps = (0..<g.kernelH * g.kernelW).map { t in layout.tap(row: (t / g.kernelW) * g.dilationH, column: (t % g.kernelW) * g.dilationW) }
        return (layout, taps)
    }

    /// `y[i] += a · x[i]` for `count` values, 16 and 8 at a time.
    @inline(__always) static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let av = SIMD16<Float>(repeating: a)
        while i + 16 <= count { var v = load16(y + i); v.addProduct(av, load16(x + i)); store16(v, y + i); i += 16 }
        if i + 8 <= count {
            var v = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            v.addProduct(SIMD8(repeating: a), UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self))
            UnsafeMutableRawPointer(y + i).storeBytes(of: v, as: SIMD8<Float>.self); i += 8
        }
        while i < count { y[i] = y[i].addingProduct(a, x[i]); i += 1 }
    }
}
