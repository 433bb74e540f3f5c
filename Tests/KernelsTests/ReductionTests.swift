import XCTest
import Kernels

/// `Reduce` against double-precision sums, at every count around its 16- and 32-lane steps, where a tail
/// handled wrongly (skipped, counted twice) would show.
final class ReductionTests: XCTestCase {
    func testEachReductionMatchesDoublePrecisionAtEveryTailLength() {
        for count in Array(0...70) + [191, 192, 197, 768] {
            let p = randomArray(count, seed: UInt64(count) + 1), q = randomArray(count, seed: UInt64(count) + 500)
            let w = randomArray(count, seed: UInt64(count) + 900), mu: Float = 0.3
            let dp = p.map(Double.init), dq = q.map(Double.init), dw = w.map(Double.init), dmu = Double(mu)
            let tolerance = 1e-5 * Double(max(count, 1))
            func close(_ got: Float, _ want: Double, _ what: String) {
                XCTAssertEqual(Double(got), want, accuracy: tolerance, "\(what), count \(count)")
            }
            p.withUnsafeBufferPointer { pb in q.withUnsafeBufferPointer { qb in w.withUnsafeBufferPointer { wb in
                let p = pb.baseAddress ?? UnsafePointer(bitPattern: 64)!, q = qb.baseAddress ?? p, w = wb.baseAddress ?? p
                close(Reduce.sum(p, count: count), dp.reduce(0, +), "sum")
                close(Reduce.squaredDeviations(p, from: mu, count: count), dp.reduce(0) { $0 + ($1 - dmu) * ($1 - dmu) }, "squared deviations")
                close(Reduce.dot(p, q, count: count), zip(dp, dq).reduce(0) { $0 + $1.0 * $1.1 }, "dot")
                let (s, d) = Reduce.sumAndCentredDot(q, p, from: mu, count: count)
                close(s, dq.reduce(0, +), "sum of g"); close(d, zip(dq, dp).reduce(0) { $0 + $1.0 * ($1.1 - dmu) }, "centred dot")
                let (ws, wd) = Reduce.weightedSumAndCentredDot(q, w, p, from: mu, count: count)
                close(ws, zip(dq, dw).reduce(0) { $0 + $1.0 * $1.1 }, "weighted sum")
                close(wd, (0..<count).reduce(0.0) { $0 + dq[$1] * dw[$1] * (dp[$1] - dmu) }, "weighted centred dot")
                if count > 0 { XCTAssertEqual(Reduce.max(p, count: count), pb.max()!, "max, count \(count)") }
            } } }
        }
    }

    func testMaxIsNaNWhenAnyValueIsNaNWhereverItSits() {
        for count in [1, 15, 16, 17, 40] {
            for at in Set([0, count / 2, count - 1]) {
                var v = randomArray(count, seed: 7); v[at] = .nan
                XCTAssertTrue(v.withUnsafeBufferPointer { Reduce.max($0.baseAddress!, count: count) }.isNaN, "NaN at \(at) of \(count)")
            }
        }
        let negatives: [Float] = Array(repeating: -5, count: 20) + [-1]
        XCTAssertEqual(negatives.withUnsafeBufferPointer { Reduce.max($0.baseAddress!, count: 21) }, -1, "the maximum in the scalar tail")
    }

    func testSumDependsOnlyOnTheValuesNotOnWhereTheyLieInMemory() {
        // Same values at another address (another alignment): the same bits, as a fixed order promises.
        let v = randomArray(1000, seed: 11), shifted = [0] + v
        let a = v.withUnsafeBufferPointer { Reduce.sum($0.baseAddress!, count: 1000) }
        let b = shifted.withUnsafeBufferPointer { Reduce.sum($0.baseAddress! + 1, count: 1000) }
        XCTAssertEqual(a.bitPattern, b.bitPattern)
    }
}
