import XCTest
import Kernels

/// Every convolution path (depthwise, Winograd, direct pointwise GEMM, chunked im2col, per-image im2col) against a naive
/// double-precision loop, on awkward shapes.
final class ConvolutionTests: XCTestCase {
    struct Case { var n, cin, cout, h, w, k, s, d, groups: Int; var padding: Padding; var label: String }

    let cases: [Case] = [
        Case(n: 1, cin: 3, cout: 4, h: 7, w: 9, k: 3, s: 1, d: 1, groups: 1, padding: .explicit(1, 1), label: "batch 1, non-square"),
        Case(n: 3, cin: 3, cout: 5, h: 8, w: 11, k: 3, s: 2, d: 1, groups: 1, padding: .same, label: "stride 2 SAME (asymmetric)"),
        Case(n: 2, cin: 4, cout: 6, h: 6, w: 5, k: 3, s: 1, d: 1, groups: 2, padding: .explicit(1, 1), label: "groups 2"),
        Case(n: 3, cin: 6, cout: 6, h: 9, w: 8, k: 3, s: 2, d: 1, groups: 6, padding: .same, label: "depthwise stride 2 SAME"),
        Case(n: 2, cin: 5, cout: 5, h: 10, w: 7, k: 5, s: 1, d: 2, groups: 5, padding: .same, label: "depthwise 5x5 dilation 2"),
        Case(n: 2, cin: 3, cout: 3, h: 18, w: 40, k: 3, s: 1, d: 1, groups: 3, padding: .explicit(1, 1), label: "depthwise, 16-wide rows and a tail"),
        Case(n: 2, cin: 4, cout: 4, h: 21, w: 37, k: 5, s: 2, d: 1, groups: 4, padding: .same, label: "depthwise 5x5 stride 2 SAME, wide"),
        Case(n: 1, cin: 2, cout: 2, h: 35, w: 34, k: 3, s: 2, d: 1, groups: 2, padding: .explicit(1, 1), label: "depthwise stride 2, even width"),
        Case(n: 3, cin: 5, cout: 5, h: 14, w: 14, k: 3, s: 1, d: 1, groups: 5, padding: .same, label: "depthwise 3x3 @14 (rows of exactly 16: row pairs)"),
        Case(n: 2, cin: 7, cout: 7, h: 7, w: 7, k: 5, s: 1, d: 1, groups: 7, padding: .same, label: "depthwise 5x5 @7"),
        Case(n: 3, cin: 5, cout: 5, h: 4, w: 5, k: 3, s: 1, d: 1, groups: 5, padding: .same, label: "depthwise @4x5 (row vectors that would pass a plane's end)"),
        Case(n: 2, cin: 3, cout: 3, h: 9, w: 9, k: 3, s: 1, d: 1, groups: 3, padding: .same, label: "depthwise 3x3 @9 (narrow rows as whole vectors)"),
        Case(n: 2, cin: 3, cout: 3, h: 9, w: 11, k: 3, s: 1, d: 1, groups: 3, padding: .explicit(0, 0), label: "depthwise stride 1 without padding"),
        Case(n: 2, cin: 4, cout: 4, h: 14, w: 14, k: 5, s: 2, d: 1, groups: 4, padding: .same, label: "depthwise 5x5 stride 2 @14 → 7 (8-, 4-wide and single tails)"),
        Case(n: 1, cin: 3, cout: 3, h: 8, w: 13, k: 3, s: 1, d: 1, groups: 3, padding: .explicit(2, 1), label: "depthwise padding wider than the reach"),
        Case(n: 2, cin: 3, cout: 4, h: 9, w: 9, k: 3, s: 1, d: 2, groups: 1, padding: .explicit(2, 2), label: "dilation 2"),
        Case(n: 3, cin: 5, cout: 7, h: 40, w: 41, k: 1, s: 1, d: 1, groups: 1, padding: .explicit(0, 0), label: "pointwise direct GEMM"),
        Case(n: 2, cin: 2, cout: 3, h: 33, w: 34, k: 3, s: 1, d: 1, groups: 1, padding: .explicit(1, 1), label: "per-image im2col"),
        Case(n: 3, cin: 4, cout: 3, h: 7, w: 6, k: 1, s: 2, d: 1, groups: 1, padding: .explicit(0, 0), label: "1x1 stride 2"),
        Case(n: 1, cin: 2, cout: 2, h: 5, w: 5, k: 7, s: 2, d: 1, groups: 1, padding: .explicit(3, 3), label: "kernel larger than input"),
        Case(n: 2, cin: 3, cout: 3, h: 13, w: 17, k: 3, s: 3, d: 1, groups: 3, padding: .explicit(1, 1), label: "depthwise stride 3 (three phases)"),
        Case(n: 2, cin: 3, cout: 3, h: 20, w: 92, k: 5, s: 3, d: 1, groups: 3, padding: .explicit(2, 2), label: "depthwise 5x5 stride 3, rows of 31 (row pairs three phases apart)"),
        Case(n: 2, cin: 3, cout: 3, h: 21, w: 60, k: 3, s: 2, d: 1, groups: 3, padding: .same, label: "depthwise 3x3 stride 2 SAME, 11 rows of 30 (row pairs, an odd last row)"),
        Case(n: 2, cin: 3, cout: 3, h: 12, w: 71, k: 3, s: 2, d: 2, groups: 3, padding: .same, label: "depthwise stride 2, dilation 2, rows past 32 (vector deinterleave)"),
        Case(n: 3, cin: 6, cout: 5, h: 7, w: 9, k: 1, s: 1, d: 1, groups: 1, padding: .explicit(0, 0), label: "pointwise small map (per-core GEMMs, dW summed across cores)"),
        Case(n: 1, cin: 4, cout: 3, h: 5, w: 5, k: 1, s: 1, d: 1, groups: 1, padding: .explicit(0, 0), label: "pointwise small map, one image"),
        Case(n: 3, cin: 16, cout: 17, h: 7, w: 9, k: 3, s: 1, d: 1, groups: 1, padding: .explicit(1, 1), label: "Winograd: odd map (half tiles), several images per chunk"),
        Case(n: 1, cin: 16, cout: 16, h: 70, w: 72, k: 3, s: 1, d: 1, groups: 1, padding: .same, label: "Winograd: one image in bands of 4 tile rows, the last one 3"),
        Case(n: 3, cin: 20, cout: 16, h: 6, w: 5, k: 3, s: 1, d: 1, groups: 1, padding: .explicit(0, 0), label: "Winograd: no padding (input gradient padded by 2)"),
        Case(n: 2, cin: 16, cout: 18, h: 5, w: 6, k: 3, s: 1, d: 1, groups: 1, padding: .explicit(2, 2), label: "Winograd: padding 2 (input gradient unpadded)"),
        Case(n: 5, cin: 32, cout: 24, h: 14, w: 14, k: 3, s: 1, d: 1, groups: 1, padding: .explicit(1, 1), label: "Winograd: 14x14, chunks split across cores"),
    ]

    /// Conv2D.forward into a fresh array (NaN-filled, so an output left unwritten shows).
    func forward(_ g: ConvGeometry, x: [Float], w: [Float], bias: [Float]?, activation: Activation = .identity) -> [Float] {
        var y = [Float](repeating: .nan, count: g.outShape.reduce(1, *))
        y.withUnsafeMutableBufferPointer { Conv2D.forward(g, x: x, weight: w, bias: bias, y: $0.baseAddress!, activation: activation) }
        return y
    }

    func geometry(_ c: Case) -> ConvGeometry {
        ConvGeometry(batch: c.n, inChannels: c.cin, height: c.h, width: c.w, outChannels: c.cout, kernel: (c.k, c.k),
                     stride: (c.s, c.s), dilation: (c.d, c.d), padding: c.padding, groups: c.groups)
    }

    func testSamePaddingMatchesTensorFlow() {
        let g = ConvGeometry(batch: 1, inChannels: 1, height: 224, width: 224, outChannels: 1, kernel: (3, 3), stride: (2, 2), padding: .same)
        XCTAssertEqual([g.outH, g.padTop, g.padBottom], [112, 0, 1], "stride-2 SAME pads only bottom/right at 224")
        let g5 = ConvGeometry(batch: 1, inChannels: 1, height: 28, width: 28, outChannels: 1, kernel: (5, 5), stride: (2, 2), padding: .same)
        XCTAssertEqual([g5.outH, g5.padTop, g5.padBottom], [14, 1, 2])
        let g1 = ConvGeometry(batch: 1, inChannels: 1, height: 7, width: 7, outChannels: 1, kernel: (3, 3), stride: (1, 1), padding: .same)
        XCTAssertEqual([g1.outH, g1.padTop, g1.padBottom], [7, 1, 1])
    }

    func testForwardAgainstNaiveLoop() {
        for (i, c) in cases.enumerated() {
            let g = geometry(c)
            let x = randomArray(g.inShape.reduce(1, *), seed: UInt64(i))
            let w = randomArray(g.weightShape.reduce(1, *), seed: UInt64(100 + i))
            // With a bias (folded batch norm) and without (training): large pointwise maps take different paths.
            for b in [randomArray(c.cout, seed: UInt64(200 + i)), nil] {
                let y = forward(g, x: x, w: w, bias: b)
                let expected = Reference.conv2d(g, x: x, w: w, bias: b)
                XCTAssertLessThan(maxAbsDiff(y, expected), 1e-4, c.label + (b == nil ? ", no bias" : ""))
            }
        }
    }

    /// Ungrouped convolutions with a bias and an activation write each image's output in column tiles (bias,
    /// GEMM, activation per tile): several tiles, a narrower last one, pointwise and unfolded, every output
    /// against the naive loop and bit-identical on a rerun.
    func testTiledForwardWithBiasAndActivation() {
        let tiled = [
            Case(n: 3, cin: 5, cout: 64, h: 64, w: 65, k: 1, s: 1, d: 1, groups: 1, padding: .explicit(0, 0), label: "pointwise @64x65, 64 channels"),
            Case(n: 2, cin: 3, cout: 40, h: 100, w: 99, k: 3, s: 2, d: 1, groups: 1, padding: .same, label: "3x3 stride 2 to 50x50, 40 channels"),
            Case(n: 1, cin: 6, cout: 48, h: 70, w: 70, k: 1, s: 1, d: 1, groups: 1, padding: .explicit(0, 0), label: "pointwise, one image: tiles split across cores"),
        ]
        for (i, c) in tiled.enumerated() {
            let g = geometry(c)
            let tiles = Conv2D.columnTiles(hw: g.outH * g.outW, outChannels: c.cout)
            XCTAssertGreaterThan(tiles.count, 1, c.label)
            XCTAssertLessThan((tiles.count - 1) * tiles.width, g.outH * g.outW, c.label)
            XCTAssertGreaterThan(tiles.count * tiles.width, g.outH * g.outW, "a narrower last tile: " + c.label)
            let x = randomArray(g.inShape.reduce(1, *), seed: UInt64(70 + i)), w = randomArray(g.weightShape.reduce(1, *), seed: UInt64(80 + i))
            let b = randomArray(c.cout, seed: UInt64(90 + i))
            let y = forward(g, x: x, w: w, bias: b, activation: .relu6)
            XCTAssertLessThan(maxAbsDiff(y, Reference.conv2d(g, x: x, w: w, bias: b).map { min(max($0, 0), 6) }), 1e-4, c.label)
            XCTAssertEqual(y, forward(g, x: x, w: w, bias: b, activation: .relu6), "bit-identical rerun: " + c.label)
        }
    }

    /// The Winograd cases above really take that path, with the activation fused into its output transform,
    /// and give the same bits on every run.
    func testWinogradPathIsTakenFusedAndRepeatable() {
        let winograd = cases.filter { $0.label.hasPrefix("Winograd") }
        XCTAssertEqual(winograd.count, 5)
        for c in winograd { XCTAssertTrue(Winograd.applies(geometry(c)), c.label) }
        XCTAssertFalse(Winograd.applies(geometry(cases[0])), "3 input channels keep im2col")
        for (i, c) in winograd.enumerated() {
            let g = geometry(c)
            let x = randomArray(g.inShape.reduce(1, *), seed: UInt64(40 + i)), w = randomArray(g.weightShape.reduce(1, *), seed: UInt64(50 + i))
            let b = randomArray(c.cout, seed: UInt64(60 + i))
            let y = forward(g, x: x, w: w, bias: b, activation: .relu)
            XCTAssertLessThan(maxAbsDiff(y, Reference.conv2d(g, x: x, w: w, bias: b).map { max($0, 0) }), 1e-4, c.label)
            XCTAssertEqual(y, forward(g, x: x, w: w, bias: b, activation: .relu), "bit-identical rerun: " + c.label)
        }
    }

    /// MBConv's folded expand → depthwise run fused per channel group gives the bits of the two convolutions run
    /// one after the other: several groups and a narrower last one, stride 1 and 2, ReLU6 and SiLU.
    func testFusedExpandDepthwiseIsBitIdenticalToTheTwoConvolutions() {
        let shapes: [(n: Int, cin: Int, hidden: Int, h: Int, w: Int, k: Int, s: Int, act: Activation)] = [
            (3, 5, 100, 70, 72, 3, 1, .relu6), (2, 7, 90, 64, 66, 5, 2, .silu), (2, 4, 12, 9, 7, 3, 2, .relu6),
            (1, 6, 150, 60, 60, 3, 1, .relu6),   // one image: its channel groups split across cores
        ]
        for (i, c) in shapes.enumerated() {
            let e = ConvGeometry(batch: c.n, inChannels: c.cin, height: c.h, width: c.w, outChannels: c.hidden, kernel: (1, 1), padding: .same)
            let d = ConvGeometry(batch: c.n, inChannels: c.hidden, height: c.h, width: c.w, outChannels: c.hidden, kernel: (c.k, c.k),
                                 stride: (c.s, c.s), padding: .same, groups: c.hidden)
            XCTAssertTrue(PointwiseDepthwise.applies(expand: e, depthwise: d))
            let x = randomArray(e.inShape.reduce(1, *), seed: UInt64(300 + i))
            let we = randomArray(e.weightShape.reduce(1, *), seed: UInt64(310 + i)), be = randomArray(c.hidden, seed: UInt64(320 + i))
            let wd = randomArray(d.weightShape.reduce(1, *), seed: UInt64(330 + i)), bd = randomArray(c.hidden, seed: UInt64(340 + i))
            let apart = forward(d, x: forward(e, x: x, w: we, bias: be, activation: c.act), w: wd, bias: bd, activation: c.act)
            var fused = [Float](repeating: .nan, count: apart.count)
            fused.withUnsafeMutableBufferPointer {
                PointwiseDepthwise.forward(expand: e, depthwise: d, x: x, expandWeight: we, expandBias: be, expandActivation: c.act,
                                           depthwiseWeight: wd, depthwiseBias: bd, depthwiseActivation: c.act, y: $0.baseAddress!)
            }
            XCTAssertEqual(fused.map(\.bitPattern), apart.map(\.bitPattern), "shape \(i)")
        }
        XCTAssertFalse(PointwiseDepthwise.applies(
            expand: ConvGeometry(batch: 1, inChannels: 3, height: 8, width: 8, outChannels: 6, kernel: (3, 3), padding: .same),
            depthwise: ConvGeometry(batch: 1, inChannels: 6, height: 8, width: 8, outChannels: 6, kernel: (3, 3), padding: .same, groups: 6)),
            "a 3×3 first convolution is not an expand")
    }

    /// Depthwise planes with rows of 16 or more run two output rows at a time, sharing loads; every output and
    /// input gradient is bit-identical to the flat one-vector-at-a-time loop, with and without a fused activation.
    func testDepthwiseRowPairsAreBitIdenticalToFlatVectors() {
        let depthwise = cases.filter { $0.label.hasPrefix("depthwise") }
        let paired = depthwise.filter { Depthwise.pairsRows(geometry($0)) }
        XCTAssertGreaterThanOrEqual(paired.count, 5, "cases that take the row-pair path")
        XCTAssertTrue(depthwise.contains { !Depthwise.pairsRows(geometry($0)) }, "and cases that keep flat vectors")
        defer { Depthwise.rowPairs = true }
        for (i, c) in paired.enumerated() {
            let g = geometry(c)
            let x = randomArray(g.inShape.reduce(1, *), seed: UInt64(70 + i)), w = randomArray(g.weightShape.reduce(1, *), seed: UInt64(80 + i))
            let b = randomArray(c.cout, seed: UInt64(90 + i)), dy = randomArray(g.outShape.reduce(1, *), seed: UInt64(95 + i))
            func forward(_ pairs: Bool, _ activation: Activation) -> [Float] {
                Depthwise.rowPairs = pairs
                var y = [Float](repeating: .nan, count: g.outShape.reduce(1, *))
                y.withUnsafeMutableBufferPointer { Conv2D.forward(g, x: x, weight: w, bias: b, y: $0.baseAddress!, activation: activation) }
                return y
            }
            func inputGradient(_ pairs: Bool) -> [Float] {
                Depthwise.rowPairs = pairs
                var dx = [Float](repeating: .nan, count: x.count)
                dx.withUnsafeMutableBufferPointer { Conv2D.backward(g, x: x, weight: w, dy: dy, dx: $0.baseAddress!, dWeight: nil, dBias: nil) }
                return dx
            }
            for activation in [Activation.identity, .relu6, .silu] {
                XCTAssertEqual(forward(true, activation), forward(false, activation), "\(activation) " + c.label)
            }
            XCTAssertEqual(inputGradient(true), inputGradient(false), "dx " + c.label)
        }
    }

    func testBackwardAgainstNaiveLoop() {
        for (i, c) in cases.enumerated() {
            let g = geometry(c)
            let x = randomArray(g.inShape.reduce(1, *), seed: UInt64(i))
            let w = randomArray(g.weightShape.reduce(1, *), seed: UInt64(100 + i))
            let dy = randomArray(g.outShape.reduce(1, *), seed: UInt64(300 + i))
            var dx = [Float](repeating: .nan, count: x.count)
            var dw = [Float](repeating: 0.5, count: w.count)  // accumulates onto what is there
            var db = [Float](repeating: 0, count: c.cout)
            dx.withUnsafeMutableBufferPointer { dxp in dw.withUnsafeMutableBufferPointer { dwp in db.withUnsafeMutableBufferPointer { dbp in
                Conv2D.backward(g, x: x, weight: w, dy: dy, dx: dxp.baseAddress!, dWeight: dwp.baseAddress!, dBias: dbp.baseAddress!)
            } } }
            let (edx, edw) = Reference.conv2dBackward(g, x: x, w: w, dy: dy)
            XCTAssertLessThan(maxAbsDiff(dx, edx), 1e-4, "dx " + c.label)
            XCTAssertLessThan(maxAbsDiff(dw, edw.map { $0 + 0.5 }), 2e-4, "dw " + c.label)
            let plane = g.outH * g.outW
            let edb = (0..<c.cout).map { co in (0..<c.n).reduce(0.0) { s, n in s + dy[(n * c.cout + co) * plane..<(n * c.cout + co + 1) * plane].reduce(0.0) { $0 + Double($1) } } }
            XCTAssertLessThan(maxAbsDiff(db, edb), 1e-4, "db " + c.label)
        }
    }

    func testPoolingAgainstNaiveLoop() {
        let shapes: [(Int, Int, Int, Int, Int, Int, Padding)] = [
            (1, 2, 7, 9, 3, 2, .explicit(1, 1)), (3, 1, 8, 8, 2, 2, .explicit(0, 0)), (2, 3, 5, 6, 3, 1, .same), (2, 2, 9, 9, 3, 2, .same)]
        for (i, s) in shapes.enumerated() {
            let g = ConvGeometry(batch: s.0, inChannels: s.1, height: s.2, width: s.3, outChannels: s.1,
                                 kernel: (s.4, s.4), stride: (s.5, s.5), padding: s.6, groups: s.1)
            let x = randomArray(g.inShape.reduce(1, *), seed: UInt64(i))
            var y = [Float](repeating: 0, count: g.outShape.reduce(1, *))
            var arg = [Int32](repeating: 0, count: y.count)
            y.withUnsafeMutableBufferPointer { yp in arg.withUnsafeMutableBufferPointer { Pooling.maxForward(g, x: x, y: yp.baseAddress!, argmax: $0.baseAddress!) } }
            XCTAssertLessThan(maxAbsDiff(y, Reference.pool(g, x: x, max: true, countIncludePad: true)), 1e-6, "max \(i)")
            for include in [true, false] {
                y.withUnsafeMutableBufferPointer { Pooling.avgForward(g, x: x, y: $0.baseAddress!, countIncludePad: include) }
                XCTAssertLessThan(maxAbsDiff(y, Reference.pool(g, x: x, max: false, countIncludePad: include)), 1e-6, "avg \(i) \(include)")
            }
        }
    }

    /// Max pooling's vector runs (16 windows inside the plane, stride 1 or 2) and its one-by-one edges keep the
    /// same scan rules: values and argmax, first strict maximum on ties, the first NaN wins, an all −∞ window
    /// keeps argmax −1; VGG's 2×2/2, ResNet's 3×3/2 padded, a stride-1 window, odd sizes and tails.
    func testMaxPoolKeepsTheScanRules() {
        let geometries = [
            ConvGeometry(batch: 2, inChannels: 3, height: 11, width: 71, outChannels: 3, kernel: (2, 2), stride: (2, 2), groups: 3),
            ConvGeometry(batch: 2, inChannels: 3, height: 13, width: 70, outChannels: 3, kernel: (3, 3), stride: (2, 2), padding: .explicit(1, 1), groups: 3),
            ConvGeometry(batch: 1, inChannels: 3, height: 9, width: 40, outChannels: 3, kernel: (3, 3), stride: (1, 1), padding: .explicit(1, 1), groups: 3),
        ]
        for (n, g) in geometries.enumerated() {
            var x = randomArray(g.inShape.reduce(1, *), seed: UInt64(7 + n)).map { ($0 * 4).rounded() / 4 }  // many ties
            for i in stride(from: 5, to: x.count, by: 97) { x[i] = .nan }
            for i in stride(from: 11, to: x.count, by: 89) { x[i] = -.infinity }
            // Whole windows of −∞ (2×2/2), in the vector part and the tail.
            if n == 0 {
                for (p, (oh, ow)) in [(0, (0, 3)), (1, (2, 20)), (4, (4, 34))] {
                    for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1)] { x[(p * g.height + 2 * oh + i) * g.width + 2 * ow + j] = -.infinity }
                }
            }
            var y = [Float](repeating: 0, count: g.outShape.reduce(1, *)), arg = [Int32](repeating: 7, count: y.count)
            y.withUnsafeMutableBufferPointer { yp in arg.withUnsafeMutableBufferPointer { Pooling.maxForward(g, x: x, y: yp.baseAddress!, argmax: $0.baseAddress!) } }
            var nans = 0, empty = 0
            for p in 0..<(g.batch * g.inChannels) { for oh in 0..<g.outH { for ow in 0..<g.outW {
                var best = -Float.infinity, at: Int32 = -1
                scan: for i in 0..<g.kernelH { for j in 0..<g.kernelW {
                    let ih = oh * g.strideH - g.padTop + i, iw = ow * g.strideW - g.padLeft + j
                    if ih < 0 || ih >= g.height || iw < 0 || iw >= g.width { continue }
                    let v = x[(p * g.height + ih) * g.width + iw]
                    if v > best || v.isNaN { best = v; at = Int32(ih * g.width + iw); if v.isNaN { break scan } }
                } }
                let o = (p * g.outH + oh) * g.outW + ow
                XCTAssertEqual(y[o].bitPattern, best.bitPattern, "value, geometry \(n) at \(p) \(oh) \(ow)")
                XCTAssertEqual(arg[o], at, "argmax, geometry \(n) at \(p) \(oh) \(ow)")
                if best.isNaN { nans += 1 }; if at == -1 { empty += 1 }
            } } }
            XCTAssertGreaterThan(nans, 5, "geometry \(n)")
            if n == 0 { XCTAssertEqual(empty, 3) }
        }
    }

    func testNormalisationKernelsAgainstNaive() {
        let n = 3, c = 2, s = 5
        let x = randomArray(n * c * s, seed: 9, lo: 2, hi: 4)
        let gamma: [Float] = [1.5, -0.5], beta: [Float] = [0.1, 0.2]
        var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: c), inv = mean, variance = mean
        y.withUnsafeMutableBufferPointer { yp in mean.withUnsafeMutableBufferPointer { mp in inv.withUnsafeMutableBufferPointer { ip in variance.withUnsafeMutableBufferPointer { vp in
            BatchNormKernel.forwardTraining(x: x, n: n, c: c, s: s, eps: 1e-5, gamma: gamma, beta: beta, y: yp.baseAddress!,
                                            mean: mp.baseAddress!, invStd: ip.baseAddress!, variance: vp.baseAddress!)
        } } } }
        for ch in 0..<c {
            let vals = (0..<n).flatMap { i in (0..<s).map { Double(x[(i * c + ch) * s + $0]) } }
            let mu = vals.reduce(0, +) / Double(vals.count)
            let v = vals.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(vals.count)
            XCTAssertEqual(Double(mean[ch]), mu, accuracy: 1e-5); XCTAssertEqual(Double(variance[ch]), v, accuracy: 1e-5)
            for i in 0..<n { for q in 0..<s {
                let idx = (i * c + ch) * s + q
                XCTAssertEqual(Double(y[idx]), (Double(x[idx]) - mu) / (v + 1e-5).squareRoot() * Double(gamma[ch]) + Double(beta[ch]), accuracy: 1e-4)
            } }
        }
        var sm = [Float](repeating: 0, count: 6)
        let logits: [Float] = [1, 2, 3, 1000, 1000, 999]
        sm.withUnsafeMutableBufferPointer { SoftmaxKernel.forward(x: logits, rows: 2, width: 3, y: $0.baseAddress!) }
        let e = [exp(-2.0), exp(-1.0), 1.0], z = e.reduce(0, +)
        XCTAssertEqual(Double(sm[0]), e[0] / z, accuracy: 1e-6)
        XCTAssertEqual(Double(sm[5]), 1 / (2 * M_E + 1), accuracy: 1e-6, "large logits stay finite")
    }

    /// Batch norm's backward reading dy through the ReLU6 mask gives the bits of masking first (the
    /// activation's own backward) and then the plain batch norm backward; a clamp of `.none` masks nothing.
    /// 19 channels: more than one block of 8, split unevenly across cores; planes of 49 leave vector tails.
    func testBatchNormBackwardThroughTheClampIsMaskThenBackward() {
        let n = 3, c = 19, s = 49, count = n * c * s
        let x = randomArray(count, seed: 21, lo: -2, hi: 3), dy = randomArray(count, seed: 22, lo: -1, hi: 1)
        let gamma = randomArray(c, seed: 23, lo: 2.5, hi: 4), beta = randomArray(c, seed: 24, lo: -0.5, hi: 0.5)
        var y = [Float](repeating: 0, count: count), mean = [Float](repeating: 0, count: c), inv = mean, variance = mean
        BatchNormKernel.forwardTraining(x: x, n: n, c: c, s: s, eps: 1e-5, gamma: gamma, beta: beta, y: &y,
                                        mean: &mean, invStd: &inv, variance: &variance, clamp: .relu6)
        XCTAssertTrue(y.contains(0) && y.contains(6) && y.contains { $0 > 0 && $0 < 6 }, "the clamp bites on both sides")
        func backward(_ g: [Float], _ clamped: (output: UnsafePointer<Float>, clamp: Activation.Clamp)?) -> (dx: [Float], dGamma: [Float], dBeta: [Float]) {
            var dx = [Float](repeating: 0, count: count), dGamma = [Float](repeating: 0, count: c), dBeta = dGamma
            BatchNormKernel.backward(x: x, dy: g, n: n, c: c, s: s, mean: mean, invStd: inv, gamma: gamma, batchStatistics: true,
                                     dx: &dx, dGamma: &dGamma, dBeta: &dBeta, clamped: clamped)
            return (dx, dGamma, dBeta)
        }
        var masked = [Float](repeating: 0, count: count)
        Activation.backward(clamp: .relu6, y: y, dy: dy, dx: &masked, count: count)
        let reference = backward(masked, nil), plain = backward(dy, nil)
        y.withUnsafeBufferPointer { yp in
            let fused = backward(dy, (yp.baseAddress!, .relu6)), none = backward(dy, (yp.baseAddress!, .none))
            func same(_ p: [Float], _ q: [Float]) -> Bool { p.map(\.bitPattern) == q.map(\.bitPattern) }
            XCTAssertTrue(same(fused.dx, reference.dx), "dx through the mask")
            XCTAssertTrue(same(fused.dGamma, reference.dGamma) && same(fused.dBeta, reference.dBeta), "dGamma, dBeta through the mask")
            XCTAssertTrue(same(none.dx, plain.dx) && same(none.dGamma, plain.dGamma), "a clamp of .none masks nothing")
        }
    }

    func testActivationDerivativesMatchFiniteDifferences() {
        for f in Activation.allCases {
            for x: Float in [-4.5, -2, -0.7, 0.3, 1.1, 2.9, 5.5, 7] {
                let h: Float = 1e-3
                let num = (Double(f.value(x + h)) - Double(f.value(x - h))) / Double(2 * h)
                XCTAssertEqual(Double(f.derivative(x)), num, accuracy: 2e-3, "\(f) at \(x)")
            }
        }
    }
}
