import XCTest
import TerminalUI

final class ProgressBarTests: XCTestCase {
    func render(_ fraction: Double, label: String = "", width: Int = 10, style: Style = .plain,
                glyphs: Glyphs = .unicode) -> Canvas {
        let canvas = Canvas(width: width, height: 1)
        ProgressBar.render(fraction: fraction, label: label, into: canvas, rect: canvas.bounds, style: style,
                           glyphs: glyphs)
        return canvas
    }

    func testZeroIsAllEmpty() {
        XCTAssertEqual(render(0).line(0), "░░░░░░░░░░")
    }

    func testHalfIsHalfFull() {
        XCTAssertEqual(render(0.5).line(0), "█████░░░░░")
    }

    func testOneIsAllFull() {
        XCTAssertEqual(render(1).line(0), "██████████")
    }

    func testNaNCountsAsZero() {
        XCTAssertEqual(render(.nan).line(0), "░░░░░░░░░░")
    }

    func testFractionIsClamped() {
        XCTAssertEqual(render(1.7).line(0), "██████████")
        XCTAssertEqual(render(-0.3).line(0), "░░░░░░░░░░")
        XCTAssertEqual(render(.infinity).line(0), "██████████")
    }

    func testPartialBlockGivesSubCellPrecision() {
        // 0.55 × 10 cells × 8 = 44 eighths: 5 full cells and a half block.
        XCTAssertEqual(render(0.55).line(0), "█████▌░░░░")
        XCTAssertEqual(render(0.0125).line(0), "▏░░░░░░░░░")
    }

    func testASCIIHasWholeCellsOnly() {
        XCTAssertEqual(render(0.5, glyphs: .ascii).line(0), "#####-----")
        XCTAssertEqual(render(0.56, glyphs: .ascii).line(0), "######----")
    }

    func testLabelFollowsTheBar() {
        let canvas = render(0.5, label: "epoch 5  51%", width: 20)
        XCTAssertEqual(canvas.line(0), "███▌░░░ epoch 5  51%")
        XCTAssertEqual(canvas[x: 8, y: 0], Cell("e", style: .plain))
    }

    func testNarrowRowCutsTheLabelNotTheBar() {
        XCTAssertEqual(render(1, label: "epoch 5  51%", width: 8).line(0), "████ ep…")
        XCTAssertEqual(render(1, label: "epoch", width: 3).line(0), "███")
    }

    func testFilledCellsTakeTheStyleAndEmptyOnesAreDimmed() {
        let green = Style(fg: .index(2))
        let canvas = render(0.5, style: green)
        XCTAssertEqual(canvas[x: 0, y: 0], Cell("█", style: green))
        XCTAssertEqual(canvas[x: 9, y: 0], Cell("░", style: green.dimmed))
    }

    func testBarText() {
        let bar = ProgressBar.bar(fraction: 0.25, width: 4, glyphs: .unicode)
        XCTAssertEqual(bar.filled, "█")
        XCTAssertEqual(bar.empty, "░░░")
        XCTAssertEqual(ProgressBar.bar(fraction: 0.5, width: 0, glyphs: .unicode).filled, "")
    }
}
