import XCTest
import TerminalUI

final class TableTests: XCTestCase {
    func runsTable(selected: Int? = 1) -> Table {
        Table(columns: [TableColumn("run", width: 8), TableColumn("strategy"),
                        TableColumn("acc", width: 6, alignment: .right)],
              rows: [["a1b2", "feature extraction", "76.2%"], ["c3d4", "fine-tune all", "81.0%"],
                     ["e5f6", "gradual", "—"]],
              selected: selected)
    }

    /// 36 wide: gutter 0–1, run 2–9, strategy 11–28 (18 shared cells), acc 30–35.
    func render(_ table: Table, width: Int = 36, height: Int = 4, glyphs: Glyphs = .unicode) -> Canvas {
        let canvas = Canvas(width: width, height: height)
        table.render(into: canvas, rect: canvas.bounds, glyphs: glyphs)
        return canvas
    }

    func testLayoutOfHeaderAndRows() {
        XCTAssertEqual(render(runsTable()).lines, [
            "  run      strategy              acc",
            "  a1b2     feature extraction  76.2%",
            "▸ c3d4     fine-tune all       81.0%",
            "  e5f6     gradual                 —",
        ])
    }

    func testColumnWidthsShareTheRest() {
        XCTAssertEqual(runsTable().columnWidths(totalWidth: 36), [8, 18, 6])
        let two = Table(columns: [TableColumn("a"), TableColumn("b")], rows: [])
        XCTAssertEqual(two.columnWidths(totalWidth: 12), [5, 4])
    }

    func testHeaderIsBold() {
        let canvas = render(runsTable())
        XCTAssertEqual(canvas[x: 2, y: 0], Cell("r", style: .bold))
        XCTAssertEqual(canvas[x: 33, y: 0], Cell("a", style: .bold))
        XCTAssertEqual(canvas[x: 0, y: 0], Cell(" "))
    }

    func testSelectedRowIsReversedWithTheMarker() {
        let canvas = render(runsTable())
        XCTAssertEqual(canvas[x: 0, y: 2], Cell("▸", style: .bold))
        XCTAssertFalse(canvas[x: 1, y: 2].style.reverse)
        XCTAssertEqual(canvas[x: 2, y: 2], Cell("c", style: .reverse))
        XCTAssertEqual(canvas[x: 10, y: 2], Cell(" ", style: .reverse))
        XCTAssertEqual(canvas[x: 35, y: 2], Cell("%", style: .reverse))
        XCTAssertEqual(canvas[x: 2, y: 1], Cell("a", style: .plain))
    }

    func testASCIISelectionMarker() {
        XCTAssertEqual(render(runsTable(), glyphs: .ascii)[x: 0, y: 2].char, ">")
    }

    func testNoSelectionHasNoMarker() {
        let canvas = render(runsTable(selected: nil))
        XCTAssertTrue(canvas.lines.allSatisfy { $0.hasPrefix("  ") })
        XCTAssertFalse(canvas.cells.contains { $0.style.reverse })
    }

    func testCellsAreCutWithTheEllipsis() {
        let canvas = render(runsTable(), width: 30)
        // Strategy now gets 12 cells.
        XCTAssertEqual(canvas.line(1), "  a1b2     feature ext…  76.2%")
        XCTAssertEqual(render(runsTable(), width: 30, glyphs: .ascii).line(1), "  a1b2     feature ext~  76.2%")
    }

    func testRightAlignmentPadsOnTheLeft() {
        let canvas = render(runsTable())
        XCTAssertEqual(canvas[x: 35, y: 3].char, "—")
        XCTAssertEqual(canvas[x: 34, y: 3].char, " ")
    }

    func testRowStylesApplyAndCombineWithSelection() {
        var table = runsTable()
        let orange = Style(fg: .index(178))
        table.rowStyles = [orange, orange, nil]
        let canvas = render(table)
        XCTAssertEqual(canvas[x: 2, y: 1].style, orange)
        XCTAssertEqual(canvas[x: 2, y: 2].style, orange.reversed)
        XCTAssertEqual(canvas[x: 2, y: 3].style, .plain)
    }

    func testScrollOffsetKeepsTheSelectionVisible() {
        XCTAssertEqual(Table.scrollOffset(selected: 0, current: 0, visibleRows: 3), 0)
        XCTAssertEqual(Table.scrollOffset(selected: 2, current: 0, visibleRows: 3), 0)
        XCTAssertEqual(Table.scrollOffset(selected: 3, current: 0, visibleRows: 3), 1)
        XCTAssertEqual(Table.scrollOffset(selected: 9, current: 1, visibleRows: 3), 7)
        XCTAssertEqual(Table.scrollOffset(selected: 4, current: 7, visibleRows: 3), 4)
        XCTAssertEqual(Table.scrollOffset(selected: 5, current: 4, visibleRows: 3), 4)
        XCTAssertEqual(Table.scrollOffset(selected: 5, current: 2, visibleRows: 0), 5)
    }

    func testSelectionScrollsTheRows() {
        var table = Table(columns: [TableColumn("n")], rows: (0..<10).map { ["row \($0)"] }, selected: 0)
        let rect = Rect(x: 0, y: 0, width: 12, height: 4)
        for _ in 0..<5 {
            table.selected! += 1
            table.scrollOffset = Table.scrollOffset(selected: table.selected!, current: table.scrollOffset,
                                                    visibleRows: table.visibleRowCount(in: rect))
        }
        XCTAssertEqual(table.scrollOffset, 3)
        let canvas = Canvas(width: 12, height: 4)
        table.render(into: canvas, rect: rect, glyphs: .unicode)
        XCTAssertEqual(canvas.lines, ["  n         ", "  row 3     ", "  row 4     ", "▸ row 5     "])
    }

    func testOverlargeScrollOffsetIsClamped() {
        var table = runsTable(selected: nil)
        table.scrollOffset = 99
        XCTAssertEqual(render(table, height: 3).lines.dropFirst().map { String($0.prefix(6)) }, ["  c3d4", "  e5f6"])
    }

    func testWithoutHeaderRowsStartAtTheTop() {
        var table = runsTable(selected: nil)
        table.header = false
        XCTAssertEqual(render(table).line(0), "  a1b2     feature extraction  76.2%")
        XCTAssertEqual(table.visibleRowCount(in: Rect(x: 0, y: 0, width: 5, height: 4)), 4)
    }

    func testNothingIsDrawnOutsideTheRect() {
        let canvas = Canvas(width: 40, height: 8)
        let rect = Rect(x: 3, y: 2, width: 20, height: 3)
        runsTable().render(into: canvas, rect: rect, glyphs: .unicode)
        for y in 0..<8 {
            for x in 0..<40 where !rect.contains(x: x, y: y) {
                XCTAssertEqual(canvas[x: x, y: y], .blank, "(\(x), \(y))")
            }
        }
        // 20 wide: the fixed columns keep their widths and the shared one shrinks to 2.
        XCTAssertEqual(canvas.line(4), "   ▸ c3d4     f…  81.0%                 ")
    }

    func testMissingCellsAreBlank() {
        let table = Table(columns: [TableColumn("a", width: 3), TableColumn("b", width: 3)], rows: [["x"]])
        XCTAssertEqual(render(table, width: 9, height: 2).line(1), "  x      ")
    }
}
