import XCTest
import TerminalUI

final class SmoothingTests: XCTestCase {
    func assertEqual(_ a: [Double], _ b: [Double], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) {
            if y.isNaN { XCTAssertTrue(x.isNaN, "\(x) is not NaN", file: file, line: line); continue }
            XCTAssertEqual(x, y, accuracy: 1e-12, file: file, line: line)
        }
    }

    func testConstantInputIsUnchanged() {
        assertEqual(LineChart.debiasedEMA([1, 1, 1], smoothing: 0.6), [1, 1, 1])
    }

    func testDebiasingRemovesThePullTowardsZero() {
        // s = 0.5: ema 1, then (0.5 + 1.5) / 0.75, as TensorBoard computes it.
        assertEqual(LineChart.debiasedEMA([2, 3], smoothing: 0.5), [2, (0.25 * 2 + 0.5 * 3) / 0.75])
    }

    func testNaNInTheMiddlePassesThroughAndDoesNotUpdate() {
        let out = LineChart.debiasedEMA([1, .nan, 3], smoothing: 0.5)
        // After 1: ema 0.5, n 1. After 3: ema 0.25 + 1.5 = 1.75, n 2, weight 1 − 0.25.
        assertEqual(out, [1, .nan, 1.75 / 0.75])
    }

    func testInfinityCountsAsMissing() {
        assertEqual(LineChart.debiasedEMA([.infinity, 2], smoothing: 0.9), [.nan, 2])
    }

    func testZeroSmoothingIsTheIdentity() {
        assertEqual(LineChart.debiasedEMA([3, 1, 4], smoothing: 0), [3, 1, 4])
    }

    func testSmoothingOfOneIsClampedAndStaysFinite() {
        let out = LineChart.debiasedEMA([1, 2, 3], smoothing: 1)
        XCTAssertTrue(out.allSatisfy(\.isFinite))
        XCTAssertEqual(out[0], 1, accuracy: 1e-9)
    }

    func testEmptyInput() {
        XCTAssertEqual(LineChart.debiasedEMA([], smoothing: 0.6), [])
    }
}
