/// The dots of a chart's plot area: 2×4 braille dots per cell, or one marker per cell, remembering which
/// series drew each cell last (that series gives the cell its colour).
struct PlotGrid {
    let columns: Int
    let rows: Int
    let braille: Bool
    private var bits: [UInt8]
    private var marks: [Character?]
    private var owners: [Int?]

    init(columns: Int, rows: Int, braille: Bool) {
        self.columns = max(0, columns)
        self.rows = max(0, rows)
        self.braille = braille
        bits = Array(repeating: 0, count: self.columns * self.rows)
        marks = Array(repeating: nil, count: self.columns * self.rows)
        owners = Array(repeating: nil, count: self.columns * self.rows)
    }

    /// Dots per cell across and down.
    var dotsPerColumn: Int { braille ? 2 : 1 }
    var dotsPerRow: Int { braille ? 4 : 1 }
    var dotWidth: Int { columns * dotsPerColumn }
    var dotHeight: Int { rows * dotsPerRow }

    /// Braille dot bits indexed [column within cell][row within cell] (U+2800 + sum of bits).
    private static let brailleBits: [[UInt8]] = [[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]]

    /// Sets one dot; dots outside the grid are ignored.
    mutating func plot(x: Int, y: Int, series: Int, marker: Character) {
        guard x >= 0, x < dotWidth, y >= 0, y < dotHeight else { return }
        let index = (y / dotsPerRow) * columns + x / dotsPerColumn
        if braille {
            bits[index] |= PlotGrid.brailleBits[x % 2][y % 4]
        } else {
            marks[index] = marker
        }
        owners[index] = series
    }

    /// Draws the segment between two points given in continuous dot coordinates, clipped to the grid.
    mutating func line(from start: (x: Double, y: Double), to end: (x: Double, y: Double), series: Int,
                       marker: Character) {
        guard let (a, b) = clip(start, end) else { return }
        var x = Int(a.x.rounded()), y = Int(a.y.rounded())
        let endX = Int(b.x.rounded()), endY = Int(b.y.rounded())
        // Bresenham, all octants.
        let dx = abs(endX - x), dy = -abs(endY - y)
        let stepX = x < endX ? 1 : -1, stepY = y < endY ? 1 : -1
        var error = dx + dy
        while true {
            plot(x: x, y: y, series: series, marker: marker)
            if x == endX && y == endY { break }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x += stepX }
            if doubled <= dx { error += dx; y += stepY }
        }
    }

    /// Sets the dot nearest to a point in continuous dot coordinates, if it lies on the grid.
    mutating func point(_ p: (x: Double, y: Double), series: Int, marker: Character) {
        guard p.x > -0.5, p.x < Double(dotWidth) - 0.5, p.y > -0.5, p.y < Double(dotHeight) - 0.5 else { return }
        plot(x: Int(p.x.rounded()), y: Int(p.y.rounded()), series: series, marker: marker)
    }

    /// The character and owning series of a cell, or nil when nothing was drawn there.
    func cell(column: Int, row: Int) -> (char: Character, series: Int)? {
        let index = row * columns + column
        guard let owner = owners[index] else { return nil }
        if braille { return (Character(Unicode.Scalar(0x2800 + UInt32(bits[index]))!), owner) }
        return (marks[index] ?? " ", owner)
    }

    /// Liang–Barsky: the part of the segment inside the grid's dot box, nil when it misses the box.
    /// Clipping in Double space keeps far-off points (a loss spike with a fixed y range) from looping forever.
    private func clip(_ a: (x: Double, y: Double), _ b: (x: Double, y: Double))
        -> ((x: Double, y: Double), (x: Double, y: Double))? {
        let minX = -0.49, maxX = Double(dotWidth) - 0.51, minY = -0.49, maxY = Double(dotHeight) - 0.51
        let dx = b.x - a.x, dy = b.y - a.y
        var t0 = 0.0, t1 = 1.0
        for (p, q) in [(-dx, a.x - minX), (dx, maxX - a.x), (-dy, a.y - minY), (dy, maxY - a.y)] {
            if p == 0 {
                if q < 0 { return nil }
            } else {
                let t = q / p
                if p < 0 { t0 = max(t0, t) } else { t1 = min(t1, t) }
                if t0 > t1 { return nil }
            }
        }
        return ((a.x + t0 * dx, a.y + t0 * dy), (a.x + t1 * dx, a.y + t1 * dy))
    }
}
