import XCTest
import TerminalUI

final class CanvasTests: XCTestCase {
    func testNewCanvasIsBlank() {
        let canvas = Canvas(width: 3, height: 2)
        XCTAssertEqual(canvas.cells.count, 6)
        XCTAssertTrue(canvas.cells.allSatisfy { $0 == .blank })
        XCTAssertEqual(canvas.bounds, Rect(x: 0, y: 0, width: 3, height: 2))
    }

    func testSubscriptOutsideReadsBlankAndIgnoresWrites() {
        let canvas = Canvas(width: 2, height: 2)
        canvas[x: 5, y: 0] = Cell("x")
        canvas[x: -1, y: 1] = Cell("x")
        XCTAssertEqual(canvas[x: 5, y: 0], .blank)
        XCTAssertTrue(canvas.cells.allSatisfy { $0 == .blank })
        canvas[x: 1, y: 1] = Cell("y", style: .bold)
        XCTAssertEqual(canvas[x: 1, y: 1], Cell("y", style: .bold))
    }

    func testPutWritesCharactersAndStyle() {
        let canvas = Canvas(width: 10, height: 1)
        let written = canvas.put("loss", x: 2, y: 0, style: .bold)
        XCTAssertEqual(written, 4)
        XCTAssertEqual(canvas.line(0), "  loss    ")
        XCTAssertEqual(canvas[x: 2, y: 0].style, .bold)
        XCTAssertEqual(canvas[x: 6, y: 0].style, .plain)
    }

    func testPutClipsAtTheRightEdgeWithoutEllipsis() {
        let canvas = Canvas(width: 5, height: 1)
        XCTAssertEqual(canvas.put("accuracy", x: 2, y: 0), 3)
        XCTAssertEqual(canvas.line(0), "  acc")
    }

    func testPutClipsAtTheLeftEdge() {
        let canvas = Canvas(width: 5, height: 1)
        XCTAssertEqual(canvas.put("abcd", x: -2, y: 0), 2)
        XCTAssertEqual(canvas.line(0), "cd   ")
    }

    func testPutOnARowOutsideWritesNothing() {
        let canvas = Canvas(width: 5, height: 1)
        XCTAssertEqual(canvas.put("abc", x: 0, y: 1), 0)
        XCTAssertEqual(canvas.put("abc", x: 0, y: -1), 0)
        XCTAssertEqual(canvas.text, "")
    }

    func testPutCutByMaxWidthEndsInEllipsis() {
        let canvas = Canvas(width: 10, height: 1)
        XCTAssertEqual(canvas.put("validation", x: 0, y: 0, maxWidth: 5), 5)
        XCTAssertEqual(canvas.line(0), "vali…     ")
    }

    func testPutCutByMaxWidthUsesASCIIEllipsisInASCIIMode() {
        let canvas = Canvas(width: 10, height: 1)
        canvas.put("validation", x: 0, y: 0, maxWidth: 5, glyphs: .ascii)
        XCTAssertEqual(canvas.text, "vali~")
    }

    func testPutThatFitsMaxWidthIsNotCut() {
        let canvas = Canvas(width: 10, height: 1)
        canvas.put("valid", x: 0, y: 0, maxWidth: 5)
        XCTAssertEqual(canvas.text, "valid")
        XCTAssertEqual(canvas.put("x", x: 0, y: 0, maxWidth: 0), 0)
    }

    func testControlCharactersAreDrawnAsSpaces() {
        let canvas = Canvas(width: 6, height: 1)
        canvas.put("a\tb\u{1B}c", x: 0, y: 0)
        XCTAssertEqual(canvas.line(0), "a b c ")
    }

    func testFillIsClippedToTheCanvas() {
        let canvas = Canvas(width: 4, height: 3)
        canvas.fill(Rect(x: 2, y: 1, width: 10, height: 10), char: "#", style: .dim)
        XCTAssertEqual(canvas.lines, ["    ", "  ##", "  ##"])
        XCTAssertEqual(canvas[x: 3, y: 2].style, .dim)
    }

    func testBoxWithTitle() {
        let canvas = Canvas(width: 10, height: 3)
        canvas.box(canvas.bounds, title: "loss", glyphs: .unicode)
        XCTAssertEqual(canvas.lines, ["┌ loss ──┐", "│        │", "└────────┘"])
        XCTAssertEqual(canvas[x: 0, y: 0].char, "┌")
        XCTAssertEqual(canvas[x: 2, y: 0], Cell("l", style: .bold))
        XCTAssertEqual(canvas[x: 1, y: 0], Cell(" "))
        XCTAssertEqual(canvas[x: 9, y: 2].char, "┘")
    }

    func testBoxStylesBorderAndTitleSeparately() {
        let canvas = Canvas(width: 10, height: 3)
        let border = Style(fg: .index(8))
        canvas.box(canvas.bounds, title: "acc", style: border, titleStyle: .underline, glyphs: .unicode)
        XCTAssertEqual(canvas[x: 0, y: 1], Cell("│", style: border))
        XCTAssertEqual(canvas[x: 2, y: 0], Cell("a", style: .underline))
        XCTAssertEqual(canvas[x: 5, y: 0], Cell(" ", style: border))
    }

    func testBoxTitleIsCutToFit() {
        let canvas = Canvas(width: 8, height: 2)
        canvas.box(canvas.bounds, title: "validation", glyphs: .unicode)
        XCTAssertEqual(canvas.line(0), "┌ val… ┐")
    }

    func testBoxInASCII() {
        let canvas = Canvas(width: 5, height: 3)
        canvas.box(canvas.bounds, glyphs: .ascii)
        XCTAssertEqual(canvas.lines, ["+---+", "|   |", "+---+"])
    }

    func testBoxSmallerThanTwoByTwoDrawsNothing() {
        let canvas = Canvas(width: 4, height: 4)
        canvas.box(Rect(x: 0, y: 0, width: 1, height: 4), glyphs: .unicode)
        XCTAssertEqual(canvas.text, "\n\n\n")
    }

    func testTextTrimsTrailingSpacesButLinesKeepThem() {
        let canvas = Canvas(width: 4, height: 2)
        canvas.put("ab", x: 0, y: 0)
        canvas.put("c", x: 1, y: 1)
        XCTAssertEqual(canvas.lines, ["ab  ", " c  "])
        XCTAssertEqual(canvas.text, "ab\n c")
        XCTAssertEqual(canvas.line(7), "")
    }

    func testClearBlanksEverything() {
        let canvas = Canvas(width: 3, height: 1)
        canvas.put("abc", x: 0, y: 0, style: .bold)
        canvas.clear()
        XCTAssertTrue(canvas.cells.allSatisfy { $0 == .blank })
    }
}
