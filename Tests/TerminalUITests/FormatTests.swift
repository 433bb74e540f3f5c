import XCTest
import TerminalUI

final class FormatTests: XCTestCase {
    func testDurations() {
        XCTAssertEqual(formatDuration(45), "45s")
        XCTAssertEqual(formatDuration(0), "0s")
        XCTAssertEqual(formatDuration(372), "6m12s")
        XCTAssertEqual(formatDuration(65), "1m05s")
        XCTAssertEqual(formatDuration(59.6), "1m00s")
        XCTAssertEqual(formatDuration(3780), "1h03m")
        XCTAssertEqual(formatDuration(90_000), "1d01h")
        XCTAssertEqual(formatDuration(-5), "0s")
    }

    func testNonFiniteDurationIsADash() {
        XCTAssertEqual(formatDuration(.nan), "—")
        XCTAssertEqual(formatDuration(.infinity), "—")
        XCTAssertEqual(formatDuration(.nan, glyphs: .ascii), "-")
        XCTAssertFalse(formatDuration(1e300).isEmpty)
    }

    func testCounts() {
        XCTAssertEqual(formatCount(0), "0")
        XCTAssertEqual(formatCount(812), "812")
        XCTAssertEqual(formatCount(1000), "1.0K")
        XCTAssertEqual(formatCount(5100), "5.1K")
        XCTAssertEqual(formatCount(512_345), "512K")
        XCTAssertEqual(formatCount(4_700_000), "4.7M")
        XCTAssertEqual(formatCount(11_700_000), "11.7M")
        XCTAssertEqual(formatCount(2_000_000_000), "2.0B")
        XCTAssertEqual(formatCount(-5100), "-5.1K")
    }

    func testCountsRoundIntoTheNextUnit() {
        XCTAssertEqual(formatCount(99_960), "100K")
        XCTAssertEqual(formatCount(999_950), "1.0M")
        XCTAssertFalse(formatCount(Int.min).isEmpty)
        XCTAssertFalse(formatCount(Int.max).isEmpty)
    }

    func testRatesLookLikeWhatUsersType() {
        XCTAssertEqual(formatRate(1e-3), "1e-3")
        XCTAssertEqual(formatRate(2.5e-4), "2.5e-4")
        XCTAssertEqual(formatRate(0.01), "1e-2")
        XCTAssertEqual(formatRate(3e-5), "3e-5")
        XCTAssertEqual(formatRate(0.1), "0.1")
        XCTAssertEqual(formatRate(0.25), "0.25")
        XCTAssertEqual(formatRate(1.5), "1.5")
        XCTAssertEqual(formatRate(3), "3")
        XCTAssertEqual(formatRate(100), "100")
        XCTAssertEqual(formatRate(1e5), "1e5")
        XCTAssertEqual(formatRate(0), "0")
        XCTAssertEqual(formatRate(-1e-3), "-1e-3")
        XCTAssertEqual(formatRate(.nan), "—")
    }

    func testRatesParseBackToTheSameDouble() {
        for x in [1e-3, 2.5e-4, 1.2345e-4, 0.00033, 7e-7, 0.003, 0.1 + 0.2, 1.0 / 3.0, 12345.678, 4e-12] {
            XCTAssertEqual(Double(formatRate(x)), x, formatRate(x))
        }
    }

    func testFloatRatesUseTheShortestFloatDigits() {
        XCTAssertEqual(formatRate(Double(Float(1e-3))), "1e-3")
        XCTAssertEqual(formatRate(Double(Float(2.5e-4))), "2.5e-4")
        XCTAssertEqual(formatRate(Double(Float(0.01))), "1e-2")
        XCTAssertEqual(Float(formatRate(Double(Float(3.3e-4)))), Float(3.3e-4))
    }

    func testPercent() {
        XCTAssertEqual(formatPercent(0.762), "76.2%")
        XCTAssertEqual(formatPercent(0.762, digits: 0), "76%")
        XCTAssertEqual(formatPercent(1), "100.0%")
        XCTAssertEqual(formatPercent(0.05123, digits: 2), "5.12%")
        XCTAssertEqual(formatPercent(-0.0), "0.0%")
        XCTAssertEqual(formatPercent(.nan), "—")
    }

    func testTicksDropTheLeadingZero() {
        XCTAssertEqual(formatTick(0.8, span: 0.05), ".80")
        XCTAssertEqual(formatTick(0.5, span: 0.1), ".5")
        XCTAssertEqual(formatTick(-0.5, span: 0.5), "-.5")
        XCTAssertEqual(formatTick(1, span: 0.25), "1.00")
    }

    func testTicksUseTheSpacingForPrecision() {
        XCTAssertEqual(formatTick(1.1, span: 0.1), "1.1")
        XCTAssertEqual(formatTick(120, span: 20), "120")
        XCTAssertEqual(formatTick(0, span: 0.25), "0")
        XCTAssertEqual(formatTick(3 * 0.1, span: 0.1), ".3")
    }

    func testSmallTicksAreScientific() {
        XCTAssertEqual(formatTick(0.002, span: 0.001), "2e-3")
        XCTAssertEqual(formatTick(0.0025, span: 0.0005), "2.5e-3")
        XCTAssertEqual(formatTick(0.002, span: 0.0005), "2e-3")
    }

    func testLargeTicksGetSuffixes() {
        XCTAssertEqual(formatTick(5000, span: 5000), "5K")
        XCTAssertEqual(formatTick(15_000, span: 5000), "15K")
        XCTAssertEqual(formatTick(2_500_000, span: 500_000), "2.5M")
        XCTAssertEqual(formatTick(1500, span: 500), "1500")
    }

    func testNonFiniteTickIsEmpty() {
        XCTAssertEqual(formatTick(.nan, span: 1), "")
    }
}
