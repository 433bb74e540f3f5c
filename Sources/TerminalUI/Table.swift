/// How a column's text sits in its width.
public enum TableAlignment: Sendable {
    case left, right
}

/// A table column: its header and width.
public struct TableColumn: Equatable, Sendable {
    public var title: String
    /// Fixed width in cells; nil columns share what the fixed ones leave.
    public var width: Int?
    public var alignment: TableAlignment

    public init(_ title: String, width: Int? = nil, alignment: TableAlignment = .left) {
        self.title = title
        self.width = width
        self.alignment = alignment
    }
}

/// A scrolling table with a bold header and a selected row.
///
/// Every row starts with a 2-cell gutter holding the selection marker and a space; columns are one space
/// apart; cells that do not fit end in the ellipsis glyph. Nothing is drawn outside the given rect.
public struct Table: Sendable {
    public var columns: [TableColumn]
    public var rows: [[String]]
    /// Per-row style (e.g. a run's colour, dim for failed runs); missing or nil entries are plain.
    public var rowStyles: [Style?]
    /// The selected row, drawn reversed with the selection marker.
    public var selected: Int?
    /// The first row shown; see `scrollOffset(selected:current:visibleRows:)` to keep the selection in view.
    public var scrollOffset: Int
    /// Whether the first line shows the column titles.
    public var header: Bool

    public init(columns: [TableColumn], rows: [[String]], rowStyles: [Style?] = [], selected: Int? = nil,
                scrollOffset: Int = 0, header: Bool = true) {
        self.columns = columns
        self.rows = rows
        self.rowStyles = rowStyles
        self.selected = selected
        self.scrollOffset = scrollOffset
        self.header = header
    }

    /// Cells taken by the selection gutter at the left of every row.
    public static let gutterWidth = 2

    /// The smallest change to `current` that keeps row `selected` among `visibleRows` rows.
    public static func scrollOffset(selected: Int, current: Int, visibleRows: Int) -> Int {
        guard visibleRows > 0 else { return max(0, selected) }
        if selected < current { return max(0, selected) }
        if selected >= current + visibleRows { return selected - visibleRows + 1 }
        return max(0, current)
    }

    /// How many data rows fit in `rect` (its height less the header line).
    public func visibleRowCount(in rect: Rect) -> Int {
        max(0, rect.height - (header ? 1 : 0))
    }

    /// Column widths for a table `width` cells wide (gutter included): fixed widths as given, the rest shared
    /// by the flexible columns, earlier ones getting the odd cells.
    public func columnWidths(totalWidth width: Int) -> [Int] {
        let available = width - Table.gutterWidth - max(0, columns.count - 1)
        let fixed = columns.reduce(0) { $0 + max(0, $1.width ?? 0) }
        let flexible = columns.filter { $0.width == nil }.count
        let spare = max(0, available - fixed)
        var seen = 0
        return columns.map { column in
            if let w = column.width { return max(0, w) }
            defer { seen += 1 }
            return spare / flexible + (seen < spare % flexible ? 1 : 0)
        }
    }

    public func render(into canvas: Canvas, rect: Rect, glyphs: Glyphs) {
        guard !rect.isEmpty else { return }
        let widths = columnWidths(totalWidth: rect.width)
        var y = rect.y
        if header {
            drawRow(columns.map(\.title), widths: widths, into: canvas, rect: rect, y: y, style: .bold,
                    marker: nil, glyphs: glyphs)
            y += 1
        }
        let visible = visibleRowCount(in: rect)
        let offset = min(max(0, scrollOffset), max(0, rows.count - visible))
        for index in offset..<min(rows.count, offset + visible) {
            let base = (index < rowStyles.count ? rowStyles[index] : nil) ?? .plain
            let isSelected = index == selected
            drawRow(rows[index], widths: widths, into: canvas, rect: rect, y: y,
                    style: isSelected ? base.reversed : base,
                    marker: isSelected ? glyphs.selectionMarker : nil, glyphs: glyphs)
            y += 1
        }
    }

    /// One line: gutter, then each column's text cut and aligned, one space apart, all clipped to `rect`.
    private func drawRow(_ cells: [String], widths: [Int], into canvas: Canvas, rect: Rect, y: Int, style: Style,
                         marker: Character?, glyphs: Glyphs) {
        let gutter = marker.map { String($0) + " " } ?? "  "
        canvas.put(gutter, x: rect.x, y: y, style: marker == nil ? .plain : .bold, maxWidth: rect.width)
        let contentX = rect.x + Table.gutterWidth
        guard contentX < rect.maxX else { return }
        // The whole line after the gutter takes the row style, so a reversed selection spans the full width.
        canvas.fill(Rect(x: contentX, y: y, width: rect.maxX - contentX, height: 1), style: style)
        var x = contentX
        for (index, width) in widths.enumerated() {
            if index > 0 { x += 1 }
            let room = min(width, rect.maxX - x)
            guard room > 0 else { break }
            let text = glyphs.truncate(index < cells.count ? cells[index] : "", to: width)
            let shown = columns[index].alignment == .right
                ? String(repeating: " ", count: width - text.count) + text
                : text
            canvas.put(shown, x: x, y: y, style: style, maxWidth: room, glyphs: glyphs)
            x += width
        }
    }
}
