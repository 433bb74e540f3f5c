/// An off-screen grid of cells that widgets draw into; the curses layer copies it to the terminal and
/// tests read it back cell by cell.
///
/// Every drawing call clips to the grid, so widgets may be handed rects that hang off the edge.
/// Each `Character` takes one column: the project only draws width-1 glyphs.
public final class Canvas {
    public let width: Int
    public let height: Int
    /// Row-major cells, `width × height` of them.
    public private(set) var cells: [Cell]
    /// Raster images a graphics protocol draws over their rects once the cells are on screen (sixel), or
    /// whose pixels the terminal must hold for the placeholder cells that show them (kitty).
    public var graphics: [TerminalGraphic] = []

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    /// The whole canvas as a rect at the origin.
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// The cell at (x, y); reading outside gives a blank cell, writing outside does nothing.
    public subscript(x x: Int, y y: Int) -> Cell {
        get { isInside(x, y) ? cells[y * width + x] : .blank }
        set { if isInside(x, y) { cells[y * width + x] = newValue } }
    }

    /// Writes `text` from (x, y) rightwards on one row and returns how many cells landed on the canvas.
    ///
    /// A string longer than `maxWidth` is cut so that its last visible character is the ellipsis glyph.
    /// Control characters (tabs, newlines, escapes) are drawn as spaces so that no text can move the
    /// real terminal's cursor.
    @discardableResult
    public func put(_ text: String, x: Int, y: Int, style: Style = .plain, maxWidth: Int? = nil,
                    glyphs: Glyphs = .unicode) -> Int {
        let visible = maxWidth.map { glyphs.truncate(text, to: $0) } ?? text
        guard y >= 0, y < height else { return 0 }
        var column = x, written = 0
        for char in visible {
            if column >= width { break }
            if column >= 0 {
                cells[y * width + column] = Cell(Canvas.printable(char), style: style)
                written += 1
            }
            column += 1
        }
        return written
    }

    /// Sets every cell of `rect` (clipped to the canvas) to `char` in `style`.
    public func fill(_ rect: Rect, char: Character = " ", style: Style = .plain) {
        let area = rect.intersection(bounds)
        guard !area.isEmpty else { return }
        let cell = Cell(Canvas.printable(char), style: style)
        for row in area.y..<area.maxY {
            for column in area.x..<area.maxX { cells[row * width + column] = cell }
        }
    }

    /// Draws a border on the edge of `rect`, with `title` set into the top edge as in `┌ loss ─────┐`.
    ///
    /// The title is cut with an ellipsis to fit between the corners and drawn in `titleStyle`
    /// (default: the border style, bold). Rects smaller than 2×2 are left untouched.
    public func box(_ rect: Rect, title: String? = nil, style: Style = .plain, titleStyle: Style? = nil,
                    glyphs: Glyphs) {
        guard rect.width >= 2, rect.height >= 2 else { return }
        let right = rect.maxX - 1, bottom = rect.maxY - 1
        for column in rect.x + 1..<right {
            self[x: column, y: rect.y] = Cell(glyphs.horizontal, style: style)
            self[x: column, y: bottom] = Cell(glyphs.horizontal, style: style)
        }
        for row in rect.y + 1..<bottom {
            self[x: rect.x, y: row] = Cell(glyphs.vertical, style: style)
            self[x: right, y: row] = Cell(glyphs.vertical, style: style)
        }
        self[x: rect.x, y: rect.y] = Cell(glyphs.topLeft, style: style)
        self[x: right, y: rect.y] = Cell(glyphs.topRight, style: style)
        self[x: rect.x, y: bottom] = Cell(glyphs.bottomLeft, style: style)
        self[x: right, y: bottom] = Cell(glyphs.bottomRight, style: style)

        // Corner, space, title, space, …, corner: the title gets what is left after four cells.
        guard let title, !title.isEmpty, rect.width - 4 >= 1 else { return }
        let shown = glyphs.truncate(title, to: rect.width - 4)
        put(" ", x: rect.x + 1, y: rect.y, style: style)
        let written = put(shown, x: rect.x + 2, y: rect.y, style: titleStyle ?? style.bolded)
        put(" ", x: rect.x + 2 + written, y: rect.y, style: style)
    }

    /// Row `y`'s characters, trailing spaces kept ("" outside the canvas).
    public func line(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        return String(cells[y * width..<(y + 1) * width].map(\.char))
    }

    /// Every row's characters, trailing spaces kept.
    public var lines: [String] { (0..<height).map(line) }

    /// The rows joined by newlines with trailing spaces trimmed: for tests and captured output.
    public var text: String {
        lines.map { line in
            var trimmed = Substring(line)
            while trimmed.last == " " { trimmed.removeLast() }
            return String(trimmed)
        }.joined(separator: "\n")
    }

    /// Resets every cell to a blank and forgets the graphics.
    public func clear() {
        for index in cells.indices { cells[index] = .blank }
        graphics = []
    }

    private func isInside(_ x: Int, _ y: Int) -> Bool {
        x >= 0 && x < width && y >= 0 && y < height
    }

    /// Control characters would move the terminal's cursor or change its state; they become spaces.
    private static func printable(_ char: Character) -> Character {
        guard let scalar = char.unicodeScalars.first else { return " " }
        let value = scalar.value
        return value < 0x20 || (0x7F..<0xA0).contains(value) ? " " : char
    }
}
