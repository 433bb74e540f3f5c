/// One data point of a chart series.
public struct ChartPoint: Equatable, Sendable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A named line of a chart. A non-finite y (NaN for a missing value) breaks the line into separate pieces.
public struct ChartSeries: Sendable {
    public var name: String
    public var points: [ChartPoint]
    /// The colour of the cells this series draws (the last series drawn into a cell colours it).
    public var style: Style
    /// The character drawn along the line in `.markers` mode, where series differ by marker, not colour.
    public var marker: Character

    public init(name: String, points: [ChartPoint], style: Style = .plain, marker: Character = "•") {
        self.name = name
        self.points = points
        self.style = style
        self.marker = marker
    }

    /// A series of `values` at x = firstX, firstX + 1, … (epochs counted from 1 by default).
    public init(name: String, values: [Double], firstX: Double = 1, style: Style = .plain, marker: Character = "•") {
        self.init(name: name, points: values.enumerated().map { ChartPoint(x: firstX + Double($0.offset), y: $0.element) },
                  style: style, marker: marker)
    }
}

/// An event drawn as a dotted vertical line across the plot, labelled at the top ("unfroze final").
public struct ChartMarker: Equatable, Sendable {
    public var x: Double
    public var label: String
    public var style: Style

    public init(x: Double, label: String, style: Style = .dim) {
        self.x = x
        self.label = label
        self.style = style
    }
}
