import Foundation

/// A line chart of one or more series with y ticks on the left, x ticks on the bottom row and event markers.
///
/// `.braille` draws each cell as a 2×4 grid of braille dots; `.markers` (for NO_COLOR and ASCII terminals)
/// draws one series marker per cell so that series differ by shape. Braille needs glyphs that allow it:
/// with `Glyphs.ascii` the chart always uses markers.
public struct LineChart {
    public enum Mode: Sendable {
        case braille
        case markers
    }

    public var series: [ChartSeries]
    public var markers: [ChartMarker]
    /// Drawn bold on the first row of the rect when set.
    public var title: String?
    /// nil: fitted to the data with 5% padding on each side (a constant series still gets some height).
    public var yRange: ClosedRange<Double>?
    /// nil: from the first to the last x of the data.
    public var xRange: ClosedRange<Double>?
    public var mode: Mode
    /// Tick labels; nil uses `formatTick` with the tick spacing (".80", "1.1", "2e-3", "120").
    public var xTickFormat: ((Double) -> String)?
    public var yTickFormat: ((Double) -> String)?

    public init(series: [ChartSeries] = [], markers: [ChartMarker] = [], title: String? = nil,
                yRange: ClosedRange<Double>? = nil, xRange: ClosedRange<Double>? = nil, mode: Mode = .braille,
                xTickFormat: ((Double) -> String)? = nil, yTickFormat: ((Double) -> String)? = nil) {
        self.series = series
        self.markers = markers
        self.title = title
        self.yRange = yRange
        self.xRange = xRange
        self.mode = mode
        self.xTickFormat = xTickFormat
        self.yTickFormat = yTickFormat
    }

    /// The text shown in the plot area while no series has a finite point.
    public static let waitingText = "waiting for data"

    /// Points with finite coordinates (inside `xRange` when one is set).
    private var finitePoints: [ChartPoint] {
        series.flatMap(\.points).filter { p in
            p.x.isFinite && p.y.isFinite && (xRange?.contains(p.x) ?? true)
        }
    }

    /// The x range the chart draws, or nil when there is no data.
    public func resolvedXRange() -> ClosedRange<Double>? {
        if let xRange { return LineChart.widened(xRange, constantPadding: 1) }
        let xs = finitePoints.map(\.x)
        guard let low = xs.min(), let high = xs.max() else { return nil }
        return LineChart.widened(low...high, constantPadding: 1)
    }

    /// The y range the chart draws, or nil when there is no data.
    public func resolvedYRange() -> ClosedRange<Double>? {
        if let yRange { return LineChart.widened(yRange, constantPadding: nil) }
        let ys = finitePoints.map(\.y)
        guard let low = ys.min(), let high = ys.max() else { return nil }
        let pad = (high - low) * 0.05
        return LineChart.widened((low - pad)...(high + pad), constantPadding: nil)
    }

    /// `range` itself unless it is empty, then centred on its value: ±`constantPadding`, or ±10% of the
    /// value (±1 around zero).
    private static func widened(_ range: ClosedRange<Double>, constantPadding: Double?) -> ClosedRange<Double> {
        guard range.upperBound <= range.lowerBound else { return range }
        let value = range.lowerBound
        let pad = constantPadding ?? (value == 0 ? 1 : abs(value) * 0.1)
        return (value - pad)...(value + pad)
    }

    public func render(into canvas: Canvas, rect: Rect, glyphs: Glyphs) {
        guard !rect.isEmpty else { return }
        var area = rect
        if let title {
            canvas.put(title, x: rect.x, y: rect.y, style: .bold, maxWidth: rect.width, glyphs: glyphs)
            area = rect.splitVertically(topHeight: 1).bottom
        }
        guard !area.isEmpty else { return }
        guard !finitePoints.isEmpty, let xBounds = resolvedXRange(), let yBounds = resolvedYRange() else {
            let text = glyphs.truncate(LineChart.waitingText, to: area.width)
            canvas.put(text, x: area.x + (area.width - text.count) / 2, y: area.y + (area.height - 1) / 2,
                       style: .dim)
            return
        }

        let hasXLabels = area.height >= 3
        let plotHeight = area.height - (hasXLabels ? 1 : 0)
        let yTicks = ChartTicks(range: yBounds, maxCount: max(2, min(5, (plotHeight + 1) / 2)))
        let yLabels = yTicks.values.map { yTickFormat?($0) ?? formatTick($0, span: yTicks.step) }
        let labelWidth = area.width >= 10 ? min(yLabels.map(\.count).max() ?? 0, area.width / 3) : 0
        let plotX = area.x + labelWidth + (labelWidth > 0 ? 1 : 0)
        let plot = Rect(x: plotX, y: area.y, width: area.maxX - plotX, height: plotHeight)
        guard !plot.isEmpty else { return }

        let braille = mode == .braille && glyphs.usesBraille
        var grid = PlotGrid(columns: plot.width, rows: plot.height, braille: braille)
        let map = DotMapping(x: xBounds, y: yBounds, grid: grid)

        drawYLabels(yTicks, yLabels, map: map, into: canvas, area: area, plot: plot, labelWidth: labelWidth, grid: grid, glyphs: glyphs)
        if hasXLabels {
            drawXLabels(xBounds, map: map, into: canvas, area: area, plot: plot, grid: grid, glyphs: glyphs)
        }

        let visibleMarkers = markers.filter { xBounds.contains($0.x) }
        for marker in visibleMarkers {
            let column = plot.x + Int(map.dotX(marker.x).rounded()) / grid.dotsPerColumn
            for row in plot.y..<plot.maxY { canvas[x: column, y: row] = Cell(glyphs.dottedVertical, style: marker.style) }
        }

        for (index, line) in series.enumerated() { draw(line, index: index, on: &grid, map: map) }
        for row in 0..<grid.rows {
            for column in 0..<grid.columns {
                guard let (char, owner) = grid.cell(column: column, row: row) else { continue }
                canvas[x: plot.x + column, y: plot.y + row] = Cell(char, style: series[owner].style)
            }
        }

        // Labels last, so that data cannot garble them.
        for marker in visibleMarkers {
            let column = plot.x + Int(map.dotX(marker.x).rounded()) / grid.dotsPerColumn
            let width = marker.label.count
            if column + 1 + width <= plot.maxX {
                canvas.put(marker.label, x: column + 1, y: plot.y, style: marker.style)
            } else if column - width >= plot.x {
                canvas.put(marker.label, x: column - width, y: plot.y, style: marker.style)
            }
        }
    }

    /// Pieces of consecutive finite points become lines; a lone finite point becomes a dot.
    private func draw(_ line: ChartSeries, index: Int, on grid: inout PlotGrid, map: DotMapping) {
        var previous: (x: Double, y: Double)?
        for point in line.points {
            guard point.x.isFinite, point.y.isFinite else {
                previous = nil
                continue
            }
            let current = (x: map.dotX(point.x), y: map.dotY(point.y))
            if let previous {
                grid.line(from: previous, to: current, series: index, marker: line.marker)
            } else {
                grid.point(current, series: index, marker: line.marker)
            }
            previous = current
        }
    }

    /// Right-aligned y labels in the left gutter, on the rows their values fall on; colliding labels are skipped.
    private func drawYLabels(_ ticks: ChartTicks, _ labels: [String], map: DotMapping, into canvas: Canvas,
                             area: Rect, plot: Rect, labelWidth: Int, grid: PlotGrid, glyphs: Glyphs) {
        guard labelWidth > 0 else { return }
        var usedRows = Set<Int>()
        for (value, label) in zip(ticks.values, labels) {
            let row = plot.y + Int(map.dotY(value).rounded()) / grid.dotsPerRow
            guard row >= plot.y, row < plot.maxY, usedRows.insert(row).inserted else { continue }
            let text = glyphs.truncate(label, to: labelWidth)
            canvas.put(text, x: area.x + labelWidth - text.count, y: row, style: .dim)
        }
    }

    /// X labels on the row under the plot, centred on their columns, skipped where they would touch.
    private func drawXLabels(_ bounds: ClosedRange<Double>, map: DotMapping, into canvas: Canvas, area: Rect,
                             plot: Rect, grid: PlotGrid, glyphs: Glyphs) {
        let integral = xTickFormat == nil && finitePoints.allSatisfy { $0.x == $0.x.rounded() }
            && bounds.lowerBound == bounds.lowerBound.rounded() && bounds.upperBound == bounds.upperBound.rounded()
        let ticks = ChartTicks(range: bounds, maxCount: max(2, min(6, plot.width / 8)), integral: integral)
        let row = plot.maxY
        var lastEnd = Int.min
        for value in ticks.values {
            let label = xTickFormat?(value) ?? formatTick(value, span: ticks.step)
            guard label.count <= area.width else { continue }
            let column = plot.x + Int(map.dotX(value).rounded()) / grid.dotsPerColumn
            let start = min(max(column - label.count / 2, area.x), area.maxX - label.count)
            guard start > lastEnd else { continue }
            canvas.put(label, x: start, y: row, style: .dim)
            lastEnd = start + label.count
        }
    }
}

/// Maps data coordinates to continuous dot coordinates of a plot grid (y grows downwards).
struct DotMapping {
    let x: ClosedRange<Double>
    let y: ClosedRange<Double>
    let dotWidth: Int
    let dotHeight: Int

    init(x: ClosedRange<Double>, y: ClosedRange<Double>, grid: PlotGrid) {
        self.x = x
        self.y = y
        dotWidth = grid.dotWidth
        dotHeight = grid.dotHeight
    }

    func dotX(_ value: Double) -> Double {
        (value - x.lowerBound) / (x.upperBound - x.lowerBound) * Double(dotWidth - 1)
    }

    func dotY(_ value: Double) -> Double {
        (y.upperBound - value) / (y.upperBound - y.lowerBound) * Double(dotHeight - 1)
    }
}
