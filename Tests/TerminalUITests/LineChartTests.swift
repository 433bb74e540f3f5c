import XCTest
import TerminalUI

final class LineChartTests: XCTestCase {
    let red = Style(fg: .index(1))
    let blue = Style(fg: .index(4))

    /// Rects narrower than 10 and lower than 3 have no tick labels: the whole rect is plot area.
    func render(_ chart: LineChart, width: Int, height: Int, glyphs: Glyphs = .unicode) -> Canvas {
        let canvas = Canvas(width: width, height: height)
        chart.render(into: canvas, rect: canvas.bounds, glyphs: glyphs)
        return canvas
    }

    func points(_ ys: [Double]) -> [ChartPoint] {
        ys.enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) }
    }

    func testBrailleRisingLineSetsTheDiagonalDots() {
        // 4×2 cells = 8×8 dots; the line runs from dot (0,7) to dot (7,0).
        let chart = LineChart(series: [ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 0), ChartPoint(x: 1, y: 1)],
                                                   style: red)],
                              yRange: 0...1, xRange: 0...1)
        let canvas = render(chart, width: 4, height: 2)
        XCTAssertEqual(canvas.lines, ["  ⡠⠊", "⡠⠊  "])
        XCTAssertEqual(canvas[x: 0, y: 1], Cell("\u{2860}", style: red))
        XCTAssertEqual(canvas[x: 3, y: 0], Cell("\u{280A}", style: red))
        XCTAssertEqual(canvas[x: 0, y: 0], .blank)
    }

    func testBrailleFlatLineUsesTheTopDotRowOfItsCell() {
        // y = 0.5 of 0…1 on 8 dot rows lands on dot row 4: the first dot row of the second cell row.
        let chart = LineChart(series: [ChartSeries(name: "a", points: points([0.5, 0.5]))], yRange: 0...1)
        let canvas = render(chart, width: 4, height: 2)
        XCTAssertEqual(canvas.lines, ["    ", "⠉⠉⠉⠉"])
    }

    func testNaNLeavesAGapColumn() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points([0.5, 0.5, .nan, 0.5, 0.5]))],
                              yRange: 0...1)
        let canvas = render(chart, width: 5, height: 2)
        XCTAssertEqual(canvas.line(1), "⠉⠁ ⠈⠉")
        XCTAssertEqual(canvas[x: 2, y: 1], .blank)
        XCTAssertEqual(canvas.line(0), "     ")
    }

    func testNaNLeavesAGapInMarkersMode() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points([0, 0, .nan, 0, 0]), marker: "o")],
                              yRange: 0...1, mode: .markers)
        XCTAssertEqual(render(chart, width: 5, height: 2).line(1), "oo oo")
    }

    func testMarkersModeDrawsEachSeriesWithItsOwnMarker() {
        let chart = LineChart(series: [
            ChartSeries(name: "train", points: points([0, 0, 0, 0, 0]), style: red, marker: "•"),
            ChartSeries(name: "val", points: points([1, 1, 1, 1, 1]), style: blue, marker: "+"),
        ], yRange: 0...1, mode: .markers)
        let canvas = render(chart, width: 5, height: 2)
        XCTAssertEqual(canvas.lines, ["+++++", "•••••"])
        XCTAssertEqual(canvas[x: 0, y: 0].style, blue)
        XCTAssertEqual(canvas[x: 0, y: 1].style, red)
    }

    func testMarkersModeFollowsSlopesCellByCell() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 0), ChartPoint(x: 2, y: 2)],
                                                   marker: "x")], mode: .markers)
        let canvas = render(chart, width: 3, height: 2)
        XCTAssertEqual(canvas[x: 0, y: 1].char, "x")
        XCTAssertEqual(canvas[x: 2, y: 0].char, "x")
    }

    func testTheLastSeriesDrawnIntoACellColoursIt() {
        // Both flat lines fall in the top cell row: dot rows 0 and 1 of the same cells.
        let chart = LineChart(series: [
            ChartSeries(name: "a", points: points([1, 1]), style: red),
            ChartSeries(name: "b", points: points([0.9, 0.9]), style: blue),
        ], yRange: 0...1)
        let canvas = render(chart, width: 2, height: 2)
        XCTAssertEqual(canvas.line(0), "⠛⠛")
        XCTAssertEqual(canvas[x: 0, y: 0].style, blue)
        XCTAssertEqual(canvas[x: 1, y: 0].style, blue)
    }

    func testASCIIGlyphsFallBackToMarkers() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points([0, 0, 0]), marker: "*")], yRange: 0...1)
        XCTAssertEqual(render(chart, width: 3, height: 2, glyphs: .ascii).lines, ["   ", "***"])
    }

    func testSinglePointSeriesDrawsOneDot() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: [ChartPoint(x: 3, y: 0.7)])])
        let canvas = render(chart, width: 5, height: 2)
        let drawn = canvas.cells.filter { $0.char != " " }
        XCTAssertEqual(drawn.count, 1)
        let bits = drawn[0].char.unicodeScalars.first!.value - 0x2800
        XCTAssertEqual(bits.nonzeroBitCount, 1)
    }

    func testLonePointBetweenGapsDrawsItsMarker() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points([.nan, 0, .nan]), marker: "o")],
                              yRange: 0...1, xRange: 0...2, mode: .markers)
        XCTAssertEqual(render(chart, width: 3, height: 2).lines, ["   ", " o "])
    }

    func testEmptySeriesShowWaitingForData() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: [])])
        let canvas = render(chart, width: 20, height: 5)
        XCTAssertEqual(canvas.line(2), "  waiting for data  ")
        XCTAssertEqual(canvas[x: 2, y: 2].style, .dim)
        XCTAssertEqual(render(LineChart(), width: 20, height: 5).line(2), "  waiting for data  ")
    }

    func testAllNaNSeriesCountAsEmpty() {
        let chart = LineChart(series: [ChartSeries(name: "a", values: [.nan, .infinity])], title: "acc")
        let canvas = render(chart, width: 20, height: 5)
        XCTAssertEqual(canvas.line(0), "acc                 ")
        XCTAssertEqual(canvas.line(2), "  waiting for data  ")
    }

    func testWaitingTextIsCutOnNarrowCharts() {
        XCTAssertEqual(render(LineChart(), width: 8, height: 1).line(0), "waiting…")
    }

    func testTitleIsBoldOnTheFirstRow() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points([0, 0]), marker: "o")], title: "loss",
                              yRange: 0...1, mode: .markers)
        let canvas = render(chart, width: 4, height: 3)
        XCTAssertEqual(canvas.lines, ["loss", "    ", "oooo"])
        XCTAssertEqual(canvas[x: 0, y: 0].style, .bold)
    }

    func testYTickLabelsSitOnTheirRows() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 0), ChartPoint(x: 1, y: 1)])],
                              yRange: 0...1)
        let canvas = render(chart, width: 30, height: 10)
        XCTAssertTrue(canvas.line(0).hasPrefix("1.00 "))
        XCTAssertTrue(canvas.line(2).hasPrefix(" .75 "))
        XCTAssertTrue(canvas.line(4).hasPrefix(" .50 "))
        XCTAssertTrue(canvas.line(6).hasPrefix(" .25 "))
        XCTAssertTrue(canvas.line(8).hasPrefix("   0 "))
        XCTAssertTrue(canvas.line(1).hasPrefix("     "))
        XCTAssertEqual(canvas[x: 0, y: 0].style, .dim)
    }

    func testXTickLabelsOnTheBottomRow() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 0), ChartPoint(x: 1, y: 1)])],
                              yRange: 0...1)
        let canvas = render(chart, width: 30, height: 10)
        // The plot starts after "1.00 " at column 5 and is 25 wide; integral x gets whole-number ticks only.
        XCTAssertEqual(canvas.line(9), "     0                       1")
        // The line starts at the bottom-left of the plot and ends at its top-right.
        XCTAssertNotEqual(canvas[x: 5, y: 8].char, " ")
        XCTAssertNotEqual(canvas[x: 29, y: 0].char, " ")
    }

    func testCustomTickFormats() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: [ChartPoint(x: 0, y: 0), ChartPoint(x: 1, y: 1)])],
                              yRange: 0...1, xTickFormat: { "e\(Int($0))" }, yTickFormat: { "\(Int($0 * 100))%" })
        let canvas = render(chart, width: 30, height: 10)
        XCTAssertTrue(canvas.line(0).hasPrefix("100% "))
        XCTAssertTrue(canvas.line(9).contains("e1"))
    }

    func testChartMarkerDrawsADottedColumnWithItsLabel() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points(Array(repeating: 0, count: 9)), marker: "o")],
                              markers: [ChartMarker(x: 2, label: "ab")], yRange: 0...1, mode: .markers)
        let canvas = render(chart, width: 9, height: 3)
        // Height 3 leaves a row for x labels; the plot is rows 0–1.
        XCTAssertEqual(canvas.line(0), "  ┆ab    ")
        XCTAssertEqual(canvas.line(1), "ooooooooo")
        XCTAssertEqual(canvas[x: 2, y: 0], Cell("┆", style: .dim))
        XCTAssertEqual(canvas[x: 3, y: 0], Cell("a", style: .dim))
    }

    func testMarkerLabelGoesLeftWhenTheRightIsFull() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points(Array(repeating: 0, count: 9)))],
                              markers: [ChartMarker(x: 7, label: "abc")], yRange: 0...1, mode: .markers)
        XCTAssertEqual(render(chart, width: 9, height: 2).line(0), "    abc┆ ")
    }

    func testMarkerLabelThatFitsNowhereIsLeftOut() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points(Array(repeating: 0, count: 9)))],
                              markers: [ChartMarker(x: 4, label: "unfroze final")], yRange: 0...1, mode: .markers)
        XCTAssertEqual(render(chart, width: 9, height: 2).line(0), "    ┆    ")
    }

    func testMarkerInASCIIUsesColons() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points(Array(repeating: 0, count: 9)), marker: "o")],
                              markers: [ChartMarker(x: 4, label: "")], yRange: 0...1)
        XCTAssertEqual(render(chart, width: 9, height: 2, glyphs: .ascii).line(0), "    :    ")
    }

    func testPointsOutsideAFixedRangeAreClipped() {
        let chart = LineChart(series: [ChartSeries(name: "a", points: points([0.5, 1e300, 0.5, -1e300]))],
                              yRange: 0...1)
        let canvas = render(chart, width: 6, height: 2)
        XCTAssertEqual(canvas.lines.count, 2)
        XCTAssertTrue(canvas.cells.contains { $0.char != " " })
    }

    func testAutoRangePadsFivePercent() throws {
        let chart = LineChart(series: [ChartSeries(name: "a", values: [0, 1])])
        let range = try XCTUnwrap(chart.resolvedYRange())
        XCTAssertEqual(range.lowerBound, -0.05, accuracy: 1e-12)
        XCTAssertEqual(range.upperBound, 1.05, accuracy: 1e-12)
        XCTAssertEqual(chart.resolvedXRange(), 1...2)
    }

    func testConstantSeriesGetsANonEmptyRange() throws {
        let range = try XCTUnwrap(LineChart(series: [ChartSeries(name: "a", values: [0.5, 0.5])]).resolvedYRange())
        XCTAssertEqual(range.lowerBound, 0.45, accuracy: 1e-12)
        XCTAssertEqual(range.upperBound, 0.55, accuracy: 1e-12)
        let zero = try XCTUnwrap(LineChart(series: [ChartSeries(name: "a", values: [0])]).resolvedYRange())
        XCTAssertEqual(zero, -1...1)
        XCTAssertEqual(LineChart(series: [ChartSeries(name: "a", values: [7])]).resolvedXRange(), 0...2)
    }

    func testNoDataHasNoRange() {
        XCTAssertNil(LineChart(series: [ChartSeries(name: "a", values: [.nan])]).resolvedYRange())
        XCTAssertNil(LineChart().resolvedXRange())
    }

    func testTinyRectsDoNotCrash() {
        let chart = LineChart(series: [ChartSeries(name: "a", values: [1, 2, 3])], markers: [ChartMarker(x: 2, label: "m")],
                              title: "t")
        for (w, h) in [(0, 0), (1, 1), (2, 1), (1, 5), (11, 2), (12, 3)] {
            XCTAssertEqual(render(chart, width: w, height: h).lines.count, h)
        }
    }

    func testSeriesFromValuesStartAtEpochOne() {
        let series = ChartSeries(name: "a", values: [5, 6])
        XCTAssertEqual(series.points, [ChartPoint(x: 1, y: 5), ChartPoint(x: 2, y: 6)])
    }
}
