import XCTest
import Foundation
import Kernels

final class TensorTests: XCTestCase {
    func testViewsShareMemoryAndCopyOnContiguous() {
        let t = Tensor(shape: [2, 3], values: [0, 1, 2, 3, 4, 5])
        let p = t.permuted([1, 0])
        XCTAssertEqual(p.shape, [3, 2])
        XCTAssertFalse(p.isContiguous)
        XCTAssertEqual(p.toArray(), [0, 3, 1, 4, 2, 5])
        XCTAssertEqual(t.reshaped([3, -1]).shape, [3, 2])
        let s = t.slice(dim: 1, 1..<3)
        XCTAssertEqual(s.toArray(), [1, 2, 4, 5])
        s[0, 0] = 10
        XCTAssertEqual(t[0, 1], 10, "a slice is a view")
        XCTAssertTrue(t.contiguous() === t)
    }

    func testPermute3DMatchesIndexMath() {
        let t = Tensor(shape: [2, 3, 4], values: (0..<24).map(Float.init))
        let p = t.permuted([2, 0, 1]).contiguous()
        for a in 0..<4 { for b in 0..<2 { for c in 0..<3 { XCTAssertEqual(p[a, b, c], t[b, c, a]) } } }
    }

    func testGEMMAgainstNaiveLoopWithTransposes() {
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 4, 33)] {
            for ta in [false, true] { for tb in [false, true] {
                let a = randomArray(m * k, seed: 1), b = randomArray(k * n, seed: 2)
                var c = randomArray(m * n, seed: 3)
                var expected = [Double](repeating: 0, count: m * n)
                for i in 0..<m { for j in 0..<n {
                    var s = 0.0
                    for q in 0..<k { s += Double(ta ? a[q * m + i] : a[i * k + q]) * Double(tb ? b[j * k + q] : b[q * n + j]) }
                    expected[i * n + j] = 2 * s + 0.5 * Double(c[i * n + j])
                } }
                c.withUnsafeMutableBufferPointer { cp in
                    sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 2, a: a, lda: ta ? m : k, b: b, ldb: tb ? k : n,
                          beta: 0.5, c: cp.baseAddress!, ldc: n)
                }
                XCTAssertLessThan(maxAbsDiff(c, expected), 1e-4, "m\(m) n\(n) k\(k) ta\(ta) tb\(tb)")
            } }
        }
    }

    func testSeededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xs = (0..<5).map { _ in a.next() }
        XCTAssertEqual(xs, (0..<5).map { _ in b.next() })
        XCTAssertNotEqual(xs, (0..<5).map { _ in c.next() })
        var g = SeededGenerator(seed: 7)
        let normals = (0..<20000).map { _ in Double(g.nextNormal()) }
        let mean = normals.reduce(0, +) / 20000, variance = normals.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 20000
        XCTAssertEqual(mean, 0, accuracy: 0.03); XCTAssertEqual(variance, 1, accuracy: 0.05)
    }
}

final class FastMathTests: XCTestCase {
    /// fastExp builds 2ⁿ from n's bits (n + 127 + 2²³ shifted into the exponent) where it used to convert n to
    /// Int32: the same bits for every n its clamped input allows (−126…128), so its results are unchanged.
    func testTwoToTheNFromTheBitsOfNIsTheOldConversion() {
        for k in -126...128 {
            let n = Float(k)
            XCTAssertEqual((n + 127 + 8388608).bitPattern << 23, UInt32(truncatingIfNeeded: Int32(n) + 127) << 23, "n = \(k)")
        }
    }

    func same(_ a: Float, _ b: Float) -> Bool { a.isNaN ? b.isNaN : a.bitPattern == b.bitPattern }

    /// The scalar fastExp, its 16-lane form and the SiLU / sigmoid loops built on it agree bit for bit (every
    /// lane, every tail length a parallel chunk leaves), including the range ends, ±∞ and NaN.
    func testVectorFastExpAndActivationLoopsGiveTheScalarBits() {
        var xs: [Float] = (0...40000).map { Float(-100 + 200 * Double($0) / 40000) }
        xs += [-.infinity, .infinity, .nan, -87.33654, 88.72283, -87.33655, 88.72284, 0, -0, 1e-30, -1e-30, 0.5, -0.5,
               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude]
        var i = 0
        while i + 16 <= xs.count {
            var v = SIMD16<Float>()
            for l in 0..<16 { v[l] = xs[i + l] }
            let e = fastExp(v), s = Activation.silu.lanes(v), g = Activation.sigmoid.lanes(v)
            for l in 0..<16 {
                XCTAssertTrue(same(e[l], fastExp(xs[i + l])), "lane \(l) of exp at \(xs[i + l])")
                XCTAssertTrue(same(s[l], Activation.silu.value(xs[i + l])), "SiLU at \(xs[i + l])")
                XCTAssertTrue(same(g[l], Activation.sigmoid.value(xs[i + l])), "sigmoid at \(xs[i + l])")
            }
            i += 16
        }
        let dy = xs.indices.map { Float($0 % 7) - 3 }
        for f in [Activation.silu, .sigmoid] {
            for n in [xs.count, 17, 15, 1] {
                var y = [Float](repeating: 0, count: n), dx = [Float](repeating: 0, count: n)
                f.forward(xs, &y, count: n)
                f.backward(x: xs, dy: dy, dx: &dx, count: n)
                for q in 0..<n {
                    XCTAssertTrue(same(y[q], f.value(xs[q])), "\(f) forward at \(xs[q]), n \(n)")
                    XCTAssertTrue(same(dx[q], f.derivative(xs[q]) * dy[q]), "\(f) backward at \(xs[q]), n \(n)")
                }
            }
            // In place, with lengths whose last vector overlaps the one before it: the overlap must see inputs.
            for n in [49, 33, 196, 17] {
                var y = Array(xs[0..<n]), dx = Array(dy[0..<n])
                y.withUnsafeMutableBufferPointer { p in f.forward(p.baseAddress!, p.baseAddress!, count: n) }
                dx.withUnsafeMutableBufferPointer { p in f.backward(x: xs, dy: p.baseAddress!, dx: p.baseAddress!, count: n) }
                for q in 0..<n {
                    XCTAssertTrue(same(y[q], f.value(xs[q])), "\(f) forward in place at \(xs[q]), n \(n)")
                    XCTAssertTrue(same(dx[q], f.derivative(xs[q]) * dy[q]), "\(f) backward in place at \(xs[q]), n \(n)")
                }
            }
        }
    }

    /// ReLU and ReLU6 run as 16-lane clamps with an overlapping last vector (`mapClamp16`), in place or not:
    /// every length a parallel chunk or a tile leaves gives the scalar bits, NaN, −0 and the kink at 6 included.
    func testClampLoopsGiveTheScalarBitsInPlaceAndNot() {
        var xs: [Float] = (0...5000).map { Float(-10 + 20 * Double($0) / 5000) }
        xs += [.nan, -0, 0, 6, 6.0000005, 5.9999995, -.infinity, .infinity, 1e-30, -1e-30]
        for f in [Activation.relu, .relu6] {
            for n in [xs.count, 49, 33, 28, 17, 16, 15, 1] {
                var y = [Float](repeating: 0, count: n)
                f.forward(xs, &y, count: n)
                var inPlace = Array(xs[xs.count - n..<xs.count])
                inPlace.withUnsafeMutableBufferPointer { p in f.forward(p.baseAddress!, p.baseAddress!, count: n) }
                for q in 0..<n {
                    XCTAssertTrue(same(y[q], f.value(xs[q])), "\(f) at \(xs[q]), n \(n)")
                    let x = xs[xs.count - n + q]
                    XCTAssertTrue(same(inPlace[q], f.value(x)), "\(f) in place at \(x), n \(n)")
                }
            }
        }
    }

    func testFastExpAndErfAgainstLibm() {
        var worstExp = 0.0, worstErf = 0.0
        for i in 0...20000 {
            let x = Float(-80 + 160 * Double(i) / 20000)
            let e = Double(x).exp, relative = abs(Double(fastExp(x)) - e) / e
            worstExp = max(worstExp, relative)
            let y = Float(-6 + 12 * Double(i) / 20000)
            worstErf = max(worstErf, abs(Double(fastErf(y)) - erf(Double(y))))
        }
        XCTAssertLessThan(worstExp, 3e-7, "fastExp within ~2 ulp")
        XCTAssertLessThan(worstErf, 5e-7)
        XCTAssertEqual(fastExp(-100), 0); XCTAssertEqual(fastExp(100), .infinity); XCTAssertEqual(fastExp(0), 1)
        XCTAssertEqual(fastExp(-.infinity), 0); XCTAssertEqual(fastExp(.infinity), .infinity)
        XCTAssertTrue(fastExp(.nan).isNaN, "NaN stays NaN through the selects")
        XCTAssertTrue(fastExp(88).isFinite); XCTAssertGreaterThan(fastExp(-87.3), 0)
    }

    /// The softmax rows attention runs between its GEMMs (vector exp, then a vector scale), at every tail
    /// length up to 40 and ViT's 197, against double precision; a −∞ score gets exactly 0, a NaN poisons its row.
    func testSoftmaxRowsMatchDoublePrecisionAtEveryTailLength() {
        var g = SeededGenerator(seed: 11)
        for width in Array(1...40) + [197] {
            var x = (0..<width).map { _ in Float.random(in: -30...30, using: &g) }
            if width > 3 { x[width / 2] = -.infinity }
            var y = [Float](repeating: .nan, count: width)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { SoftmaxKernel.row(xp.baseAddress!, $0.baseAddress!, width: width) } }
            let m = Double(x.max()!), e = x.map { Foundation.exp(Double($0) - m) }, total = e.reduce(0, +)
            for i in 0..<width { XCTAssertEqual(Double(y[i]), e[i] / total, accuracy: 1e-6, "width \(width), entry \(i)") }
            if width > 3 { XCTAssertEqual(y[width / 2], 0) }
            x[0] = .nan
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { SoftmaxKernel.row(xp.baseAddress!, $0.baseAddress!, width: width) } }
            XCTAssertTrue(y.allSatisfy(\.isNaN), "width \(width): a NaN score makes the whole row NaN")
        }
    }
}

extension Double { var exp: Double { Foundation.exp(self) } }
