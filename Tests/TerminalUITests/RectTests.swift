import XCTest
import TerminalUI

final class RectTests: XCTestCase {
    let rect = Rect(x: 2, y: 3, width: 20, height: 10)

    func testNegativeSizesClampToZero() {
        let r = Rect(x: 0, y: 0, width: -4, height: -1)
        XCTAssertEqual(r.width, 0)
        XCTAssertEqual(r.height, 0)
        XCTAssertTrue(r.isEmpty)
    }

    func testInsetShrinksEverySide() {
        XCTAssertEqual(rect.inset(by: 1), Rect(x: 3, y: 4, width: 18, height: 8))
        XCTAssertEqual(rect.inset(horizontal: 2, vertical: 0), Rect(x: 4, y: 3, width: 16, height: 10))
        XCTAssertTrue(rect.inset(by: 6).isEmpty)
    }

    func testSplitHorizontally() {
        let (left, right) = rect.splitHorizontally(leftWidth: 5)
        XCTAssertEqual(left, Rect(x: 2, y: 3, width: 5, height: 10))
        XCTAssertEqual(right, Rect(x: 7, y: 3, width: 15, height: 10))
    }

    func testSplitHorizontallyWithGapAndOverlongWidth() {
        let (left, right) = rect.splitHorizontally(leftWidth: 5, gap: 1)
        XCTAssertEqual(right, Rect(x: 8, y: 3, width: 14, height: 10))
        XCTAssertEqual(left.width, 5)
        let (all, none) = rect.splitHorizontally(leftWidth: 99)
        XCTAssertEqual(all, rect)
        XCTAssertTrue(none.isEmpty)
    }

    func testSplitVertically() {
        let (top, bottom) = rect.splitVertically(topHeight: 3)
        XCTAssertEqual(top, Rect(x: 2, y: 3, width: 20, height: 3))
        XCTAssertEqual(bottom, Rect(x: 2, y: 6, width: 20, height: 7))
    }

    func testRowsWithFixedAndFlexibleHeights() {
        let parts = rect.rows([1, nil, nil, 2])
        XCTAssertEqual(parts.map(\.height), [1, 4, 3, 2])
        XCTAssertEqual(parts.map(\.y), [3, 4, 8, 11])
    }

    func testRowsThatOverflowAreClipped() {
        let parts = rect.rows([6, 6, 6])
        XCTAssertEqual(parts.map(\.height), [6, 4, 0])
        XCTAssertEqual(parts.last?.y, 13)
    }

    func testColumnsByFractionAddUpToTheWidth() {
        let parts = rect.columns(fractions: [1, 1, 1])
        XCTAssertEqual(parts.map(\.width).reduce(0, +), 20)
        XCTAssertEqual(parts.map(\.x), [2, 9, 15])
        XCTAssertEqual(parts.map(\.width), [7, 6, 7])
    }

    func testColumnsWithFixedWidths() {
        XCTAssertEqual(rect.columns([4, nil]).map(\.width), [4, 16])
    }

    func testRowsByFraction() {
        XCTAssertEqual(rect.rows(fractions: [0.3, 0.7]).map(\.height), [3, 7])
    }

    func testCenteredRect() {
        XCTAssertEqual(rect.centered(width: 10, height: 4), Rect(x: 7, y: 6, width: 10, height: 4))
        XCTAssertEqual(rect.centered(width: 50, height: 50), rect)
    }

    func testIntersectionAndContains() {
        let other = Rect(x: 0, y: 0, width: 5, height: 5)
        XCTAssertEqual(rect.intersection(other), Rect(x: 2, y: 3, width: 3, height: 2))
        XCTAssertTrue(rect.intersection(Rect(x: 50, y: 50, width: 2, height: 2)).isEmpty)
        XCTAssertTrue(rect.contains(x: 2, y: 3))
        XCTAssertFalse(rect.contains(x: 22, y: 3))
    }
}
