import XCTest
import TerminalUI

final class CellTests: XCTestCase {
    func testPlainStyleHasDefaultColoursAndNoAttributes() {
        let plain = Style.plain
        XCTAssertEqual(plain.fg, .standard)
        XCTAssertEqual(plain.bg, .standard)
        XCTAssertFalse(plain.bold || plain.dim || plain.reverse || plain.underline)
        XCTAssertEqual(Style(), plain)
    }

    func testBlankCellIsAPlainSpace() {
        XCTAssertEqual(Cell.blank.char, " ")
        XCTAssertEqual(Cell.blank.style, .plain)
        XCTAssertEqual(Cell(), .blank)
    }

    func testStyleHelpersAddOneAttributeEach() {
        XCTAssertEqual(Style.fg(.index(3)), Style(fg: .index(3)))
        XCTAssertEqual(Style.fg(5), Style(fg: .index(5)))
        XCTAssertEqual(Style.fg(2).bolded, Style(fg: .index(2), bold: true))
        XCTAssertEqual(Style.plain.reversed, Style(reverse: true))
        XCTAssertEqual(Style.plain.dimmed, Style.dim)
        XCTAssertEqual(Style.plain.underlined, Style.underline)
        XCTAssertEqual(Style.bold.withBg(.index(4)), Style(bg: .index(4), bold: true))
        XCTAssertEqual(Style.bold.withFg(.standard), Style.bold)
    }
}
