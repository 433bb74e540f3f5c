import XCTest
import TerminalUI

final class TextFieldTests: XCTestCase {
    func type(_ text: String, into field: inout TextField) {
        for char in text { XCTAssertTrue(field.handle(.char(char))) }
    }

    func testTypingInsertsAtTheCursor() {
        var field = TextField()
        type("1e3", into: &field)
        XCTAssertEqual(field.text, "1e3")
        XCTAssertEqual(field.cursor, 3)
        XCTAssertTrue(field.handle(.left))
        type("-", into: &field)
        XCTAssertEqual(field.text, "1e-3")
        XCTAssertEqual(field.cursor, 3)
    }

    func testCursorStartsAtTheEnd() {
        XCTAssertEqual(TextField(text: "abc").cursor, 3)
        XCTAssertEqual(TextField(text: "abc", cursor: 9).cursor, 3)
        XCTAssertEqual(TextField(text: "abc", cursor: -2).cursor, 0)
    }

    func testBackspaceDeletesBeforeTheCursor() {
        var field = TextField(text: "abc", cursor: 2)
        XCTAssertTrue(field.handle(.backspace))
        XCTAssertEqual(field.text, "ac")
        XCTAssertEqual(field.cursor, 1)
    }

    func testBackspaceAtTheStartIsConsumedAndDoesNothing() {
        var field = TextField(text: "abc", cursor: 0)
        XCTAssertTrue(field.handle(.backspace))
        XCTAssertEqual(field.text, "abc")
    }

    func testDeleteRemovesUnderTheCursor() {
        var field = TextField(text: "abc", cursor: 1)
        XCTAssertTrue(field.handle(.delete))
        XCTAssertEqual(field.text, "ac")
        XCTAssertEqual(field.cursor, 1)
        field.cursor = 2
        XCTAssertTrue(field.handle(.delete))
        XCTAssertEqual(field.text, "ac")
    }

    func testMovementKeysStayInsideTheText() {
        var field = TextField(text: "abc")
        XCTAssertTrue(field.handle(.right))
        XCTAssertEqual(field.cursor, 3)
        XCTAssertTrue(field.handle(.home))
        XCTAssertEqual(field.cursor, 0)
        XCTAssertTrue(field.handle(.left))
        XCTAssertEqual(field.cursor, 0)
        XCTAssertTrue(field.handle(.end))
        XCTAssertEqual(field.cursor, 3)
        XCTAssertTrue(field.handle(.ctrl("a")))
        XCTAssertEqual(field.cursor, 0)
        XCTAssertTrue(field.handle(.ctrl("e")))
        XCTAssertEqual(field.cursor, 3)
    }

    func testCtrlUClears() {
        var field = TextField(text: "2.5e-4")
        XCTAssertTrue(field.handle(.ctrl("u")))
        XCTAssertEqual(field.text, "")
        XCTAssertEqual(field.cursor, 0)
    }

    func testCtrlKAndCtrlW() {
        var field = TextField(text: "fine tune all", cursor: 9)
        XCTAssertTrue(field.handle(.ctrl("k")))
        XCTAssertEqual(field.text, "fine tune")
        XCTAssertTrue(field.handle(.ctrl("w")))
        XCTAssertEqual(field.text, "fine ")
        XCTAssertEqual(field.cursor, 5)
        XCTAssertTrue(field.handle(.ctrl("w")))
        XCTAssertEqual(field.text, "")
    }

    func testKeysThatAreNotEditingAreNotConsumed() {
        var field = TextField(text: "x")
        for key in [Key.enter, .escape, .tab, .up, .down, .ctrl("c"), .function(1), .resize] {
            XCTAssertFalse(field.handle(key), "\(key)")
        }
        XCTAssertEqual(field.text, "x")
    }

    func testSettingShorterTextClampsTheCursor() {
        var field = TextField(text: "abcdef")
        field.text = "ab"
        XCTAssertEqual(field.cursor, 2)
    }

    func testFocusedRenderReversesTheCursorCell() {
        let canvas = Canvas(width: 8, height: 1)
        TextField(text: "abc", cursor: 1).render(into: canvas, x: 1, y: 0, width: 6, glyphs: .unicode, focused: true)
        XCTAssertEqual(canvas.line(0), " abc    ")
        XCTAssertEqual(canvas[x: 2, y: 0], Cell("b", style: .reverse))
        XCTAssertEqual(canvas[x: 1, y: 0], Cell("a"))
    }

    func testCursorAtTheEndIsAReversedSpace() {
        let canvas = Canvas(width: 6, height: 1)
        TextField(text: "ab").render(into: canvas, x: 0, y: 0, width: 6, glyphs: .unicode, focused: true)
        XCTAssertEqual(canvas[x: 2, y: 0], Cell(" ", style: .reverse))
    }

    func testLongTextScrollsToKeepTheCursorVisible() {
        let canvas = Canvas(width: 5, height: 1)
        let field = TextField(text: "0123456789")
        XCTAssertEqual(field.scrollStart(width: 5, focused: true), 6)
        field.render(into: canvas, x: 0, y: 0, width: 5, glyphs: .unicode, focused: true)
        XCTAssertEqual(canvas.line(0), "6789 ")
        XCTAssertEqual(canvas[x: 4, y: 0].style, .reverse)
    }

    func testCursorBackAtTheStartShowsTheStart() {
        let canvas = Canvas(width: 5, height: 1)
        TextField(text: "0123456789", cursor: 0).render(into: canvas, x: 0, y: 0, width: 5, glyphs: .unicode,
                                                         focused: true)
        XCTAssertEqual(canvas.line(0), "01234")
        XCTAssertEqual(canvas[x: 0, y: 0], Cell("0", style: .reverse))
    }

    func testUnfocusedLongTextIsCutWithTheEllipsis() {
        let canvas = Canvas(width: 5, height: 1)
        TextField(text: "0123456789").render(into: canvas, x: 0, y: 0, width: 5, glyphs: .unicode, focused: false)
        XCTAssertEqual(canvas.line(0), "0123…")
        XCTAssertFalse(canvas.cells.contains { $0.style.reverse })
    }

    func testErrorDrawsTheTextRed() {
        let canvas = Canvas(width: 6, height: 1)
        TextField(text: "abc", error: "not a number").render(into: canvas, x: 0, y: 0, width: 6, glyphs: .unicode,
                                                             focused: false)
        XCTAssertEqual(canvas[x: 0, y: 0], Cell("a", style: Style(fg: .index(1))))
    }

    func testFieldStyleFillsTheWholeWidth() {
        let canvas = Canvas(width: 6, height: 1)
        TextField(text: "a").render(into: canvas, x: 0, y: 0, width: 4, style: .underline, glyphs: .unicode,
                                    focused: false)
        XCTAssertEqual(canvas[x: 3, y: 0], Cell(" ", style: .underline))
        XCTAssertEqual(canvas[x: 4, y: 0], .blank)
    }

    func testPlaceholderShowsWhenEmptyAndUnfocused() {
        let canvas = Canvas(width: 8, height: 1)
        let field = TextField(placeholder: "1e-3")
        field.render(into: canvas, x: 0, y: 0, width: 8, glyphs: .unicode, focused: false)
        XCTAssertEqual(canvas.text, "1e-3")
        XCTAssertEqual(canvas[x: 0, y: 0].style, .dim)
        canvas.clear()
        field.render(into: canvas, x: 0, y: 0, width: 8, glyphs: .unicode, focused: true)
        XCTAssertEqual(canvas.text, "")
        XCTAssertEqual(canvas[x: 0, y: 0].style, .reverse)
    }
}
