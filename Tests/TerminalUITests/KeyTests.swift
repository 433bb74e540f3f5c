import XCTest
import TerminalUI

final class KeyTests: XCTestCase {
    func testLabelsInUnicode() {
        let g = Glyphs.unicode
        XCTAssertEqual(Key.up.label(glyphs: g), "↑")
        XCTAssertEqual(Key.down.label(glyphs: g), "↓")
        XCTAssertEqual(Key.enter.label(glyphs: g), "⏎")
        XCTAssertEqual(Key.tab.label(glyphs: g), "Tab")
        XCTAssertEqual(Key.escape.label(glyphs: g), "Esc")
        XCTAssertEqual(Key.ctrl("c").label(glyphs: g), "^C")
        XCTAssertEqual(Key.char("q").label(glyphs: g), "q")
        XCTAssertEqual(Key.char(" ").label(glyphs: g), "Space")
        XCTAssertEqual(Key.function(5).label(glyphs: g), "F5")
        XCTAssertEqual(Key.pageDown.label(glyphs: g), "PgDn")
    }

    func testLabelsInASCII() {
        XCTAssertEqual(Key.up.label(glyphs: .ascii), "^")
        XCTAssertEqual(Key.left.label(glyphs: .ascii), "<")
        XCTAssertEqual(Key.enter.label(glyphs: .ascii), "Enter")
    }

    func testPrintableCharacter() {
        XCTAssertEqual(Key.char("a").printableCharacter, "a")
        XCTAssertEqual(Key.char(" ").printableCharacter, " ")
        XCTAssertNil(Key.char("\u{7}").printableCharacter)
        XCTAssertNil(Key.enter.printableCharacter)
        XCTAssertNil(Key.ctrl("u").printableCharacter)
    }
}
