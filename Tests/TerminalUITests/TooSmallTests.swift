import XCTest
import Foundation
import TerminalUI

final class TooSmallTests: XCTestCase {
    func testSixtyByTwentyShowsBothLinesCentred() {
        let canvas = Canvas(width: 60, height: 20)
        renderTooSmall(into: canvas, need: (width: 80, height: 24))
        XCTAssertEqual(canvas.line(9), String(repeating: " ", count: 17) + "terminal too small: 60×20" + String(repeating: " ", count: 18))
        XCTAssertEqual(canvas.line(10).trimmingCharacters(in: .whitespaces), "need 80×24")
        XCTAssertEqual(canvas[x: 25, y: 10].char, "n")
        XCTAssertEqual(canvas[x: 17, y: 9], Cell("t", style: .bold))
        XCTAssertEqual(canvas[x: 37, y: 9], Cell("6", style: Style(fg: .index(1), bold: true)))
    }

    func testTwentyByFiveUsesTheShortWording() {
        let canvas = Canvas(width: 20, height: 5)
        renderTooSmall(into: canvas, need: (width: 80, height: 24))
        XCTAssertEqual(canvas.lines, [
            "                    ",
            "  too small: 20×5   ",
            "     need 80×24     ",
            "                    ",
            "                    ",
        ])
    }

    func testOneByOneDoesNotCrash() {
        let canvas = Canvas(width: 1, height: 1)
        renderTooSmall(into: canvas, need: (width: 80, height: 24))
        XCTAssertEqual(canvas.line(0), "!")
    }

    func testEmptyAndOneRowCanvases() {
        renderTooSmall(into: Canvas(width: 0, height: 0), need: (width: 80, height: 24))
        let row = Canvas(width: 12, height: 1)
        renderTooSmall(into: row, need: (width: 80, height: 24))
        XCTAssertEqual(row.line(0), "    12×1    ")
        let narrow = Canvas(width: 3, height: 3)
        renderTooSmall(into: narrow, need: (width: 80, height: 24))
        XCTAssertEqual(narrow.lines, ["3×3", "80×", "   "])
    }

    func testASCIIUsesAnX() {
        let canvas = Canvas(width: 60, height: 20)
        renderTooSmall(into: canvas, need: (width: 80, height: 24), glyphs: .ascii)
        XCTAssertTrue(canvas.text.contains("terminal too small: 60x20"))
        XCTAssertTrue(canvas.text.contains("need 80x24"))
    }

    func testPreviousContentIsCleared() {
        let canvas = Canvas(width: 30, height: 6)
        canvas.fill(canvas.bounds, char: "#")
        renderTooSmall(into: canvas, need: (width: 80, height: 24))
        XCTAssertFalse(canvas.text.contains("#"))
    }
}
