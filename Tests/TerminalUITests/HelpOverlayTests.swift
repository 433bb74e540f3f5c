import XCTest
import Foundation
import TerminalUI

final class HelpOverlayTests: XCTestCase {
    func globalTable() -> KeyTable<Int> {
        KeyTable(title: "global", bindings: [
            KeyBinding(keys: [.char("1")], description: "runs screen", action: 1),
            KeyBinding(keys: [.char("2")], description: "new experiment", action: 2),
        ])
    }

    func render(_ overlay: HelpOverlay, width: Int = 60, height: Int = 20) -> Canvas {
        let canvas = Canvas(width: width, height: height)
        overlay.render(into: canvas, glyphs: .unicode)
        return canvas
    }

    func testBoxIsCentredWithTheTableTitle() {
        let canvas = render(HelpOverlay(runsTable(), glyphs: .unicode))
        // 7 rows + border + filter line + blank line = 11 tall, 30 + 4 wide.
        XCTAssertEqual(canvas[x: 13, y: 4].char, "┌")
        XCTAssertEqual(canvas[x: 46, y: 14].char, "┘")
        XCTAssertTrue(canvas.line(4).hasPrefix("             ┌ keys — runs ─"))
        XCTAssertEqual(canvas[x: 15, y: 4], Cell("k", style: .bold))
    }

    func testFilterPromptLine() {
        let canvas = render(HelpOverlay(runsTable(), glyphs: .unicode))
        XCTAssertEqual(canvas.line(5), "             │ / filter: _                    │             ")
        XCTAssertEqual(canvas[x: 15, y: 5].style, .dim)
        XCTAssertEqual(canvas[x: 25, y: 5], Cell("_", style: .bold))
    }

    func testRowsAreAlignedInTwoColumns() {
        let canvas = render(HelpOverlay(runsTable(), glyphs: .unicode))
        XCTAssertEqual(canvas.line(7).trimmingCharacters(in: .whitespaces), "│ ↑ k    move up                 │")
        XCTAssertEqual(canvas.line(12).trimmingCharacters(in: .whitespaces), "│ q ^C   quit tlab               │")
        XCTAssertEqual(canvas[x: 15, y: 7], Cell("↑", style: .bold))
        XCTAssertEqual(canvas[x: 22, y: 7], Cell("m", style: .plain))
    }

    func testSingleTableHasNoSectionHeader() {
        let text = render(HelpOverlay(runsTable(), glyphs: .unicode)).text
        XCTAssertFalse(text.contains("│ runs"))
    }

    func testSeveralTablesBecomeTitledSections() {
        let text = render(HelpOverlay(runsTable(), globalTable(), glyphs: .unicode)).text
        XCTAssertTrue(text.contains("│ runs   "))
        XCTAssertTrue(text.contains("│ global   "))
        XCTAssertTrue(text.contains("│ 2      new experiment"))
    }

    func testTypingFilters() {
        var overlay = HelpOverlay(runsTable(), glyphs: .unicode)
        let area = Rect(x: 0, y: 0, width: 60, height: 20)
        for char in "Quit" { XCTAssertTrue(overlay.handle(.char(char), area: area)) }
        XCTAssertEqual(overlay.filter, "Quit")
        let canvas = render(overlay)
        XCTAssertTrue(canvas.line(5).contains("/ filter: Quit_"))
        XCTAssertTrue(canvas.line(7).contains("q ^C   quit tlab"))
        XCTAssertFalse(canvas.text.contains("move up"))
        // The box keeps its size while filtering.
        XCTAssertEqual(canvas[x: 46, y: 14].char, "┘")
    }

    func testBackspaceAndCtrlUEditTheFilter() {
        var overlay = HelpOverlay(runsTable(), glyphs: .unicode)
        let area = Rect(x: 0, y: 0, width: 60, height: 20)
        _ = overlay.handle(.char("a"), area: area)
        _ = overlay.handle(.char("b"), area: area)
        XCTAssertTrue(overlay.handle(.backspace, area: area))
        XCTAssertEqual(overlay.filter, "a")
        XCTAssertTrue(overlay.handle(.ctrl("u"), area: area))
        XCTAssertEqual(overlay.filter, "")
    }

    func testNoMatchMessage() {
        let canvas = render(HelpOverlay(sections: [runsTable().helpSection(glyphs: .unicode)], filter: "xyz"))
        XCTAssertTrue(canvas.line(7).contains("│ no key matches 'xyz'"))
        XCTAssertEqual(canvas[x: 15, y: 7].style, .dim)
    }

    func testCutListEndsWithHowManyMore() {
        let canvas = render(HelpOverlay(runsTable(), glyphs: .unicode), width: 50, height: 9)
        // 9 rows: border, filter, blank, 5 list rows, border → 4 entries and "(3 more)".
        XCTAssertTrue(canvas.line(6).contains("c      compare marked runs"))
        XCTAssertTrue(canvas.line(7).contains("│ (3 more)"))
        XCTAssertEqual(canvas[x: 10, y: 7].style, .dim)
    }

    func testScrollingShowsLaterRowsAndStopsAtTheEnd() {
        var overlay = HelpOverlay(runsTable(), glyphs: .unicode)
        let area = Rect(x: 0, y: 0, width: 50, height: 9)
        for _ in 0..<10 { _ = overlay.handle(.down, area: area) }
        XCTAssertEqual(overlay.scrollOffset, 2)
        let canvas = render(overlay, width: 50, height: 9)
        XCTAssertTrue(canvas.line(4).contains("c      compare marked runs"))
        XCTAssertTrue(canvas.line(7).contains("?      show this help"))
        _ = overlay.handle(.home, area: area)
        XCTAssertEqual(overlay.scrollOffset, 0)
        _ = overlay.handle(.end, area: area)
        XCTAssertEqual(overlay.scrollOffset, 2)
        _ = overlay.handle(.up, area: area)
        XCTAssertEqual(overlay.scrollOffset, 1)
    }

    func testTypingResetsTheScroll() {
        var overlay = HelpOverlay(runsTable(), glyphs: .unicode)
        overlay.scrollOffset = 2
        _ = overlay.handle(.char("d"), area: Rect(x: 0, y: 0, width: 50, height: 9))
        XCTAssertEqual(overlay.scrollOffset, 0)
    }

    func testEscapeClearsTheFilterBeforeClosing() {
        var overlay = HelpOverlay(runsTable(), glyphs: .unicode)
        let area = Rect(x: 0, y: 0, width: 60, height: 20)
        _ = overlay.handle(.char("q"), area: area)
        XCTAssertTrue(overlay.handle(.escape, area: area))
        XCTAssertEqual(overlay.filter, "")
        XCTAssertFalse(overlay.handle(.escape, area: area))
    }

    func testQuestionMarkClosesOnlyWithAnEmptyFilter() {
        var overlay = HelpOverlay(runsTable(), glyphs: .unicode)
        let area = Rect(x: 0, y: 0, width: 60, height: 20)
        XCTAssertFalse(overlay.handle(.char("?"), area: area))
        _ = overlay.handle(.char("a"), area: area)
        XCTAssertTrue(overlay.handle(.char("?"), area: area))
        XCTAssertEqual(overlay.filter, "a?")
        XCTAssertFalse(overlay.handle(.enter, area: area))
    }

    func testTinyCanvasDoesNotCrash() {
        for (w, h) in [(1, 1), (3, 2), (10, 4)] {
            let canvas = render(HelpOverlay(runsTable(), glyphs: .unicode), width: w, height: h)
            XCTAssertEqual(canvas.lines.count, h)
        }
    }

    func testASCIITitleUsesAPlainDash() {
        let canvas = Canvas(width: 60, height: 20)
        HelpOverlay(runsTable(), glyphs: .ascii).render(into: canvas, glyphs: .ascii)
        XCTAssertTrue(canvas.line(4).contains("+ keys - runs -"))
    }
}
