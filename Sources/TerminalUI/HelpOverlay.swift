/// The help overlay: a centred box listing every key binding, generated from the screens' key tables,
/// with a filter the user types into and a scrollable list.
///
/// Keys: printable characters extend the filter, Backspace and ^U edit it, ↑ ↓ PgUp PgDn Home End scroll.
/// `handle` returns false for the keys that should close the overlay: Esc (once the filter is empty),
/// '?' (while the filter is empty) and Enter.
public struct HelpOverlay {
    /// One section per key table: the screen's own keys first, then shared ones such as global keys.
    public var sections: [HelpSection]
    public var filter: String
    /// Rows scrolled past; `handle` keeps it within the list, and drawing clamps it too.
    public var scrollOffset: Int

    public init(sections: [HelpSection], filter: String = "", scrollOffset: Int = 0) {
        self.sections = sections
        self.filter = filter
        self.scrollOffset = scrollOffset
    }

    /// An overlay for one table.
    public init<A>(_ table: KeyTable<A>, glyphs: Glyphs) {
        self.init(sections: [table.helpSection(glyphs: glyphs)])
    }

    /// An overlay for a screen's table followed by a second (e.g. global) table, whatever their action types.
    public init<A, B>(_ table: KeyTable<A>, _ other: KeyTable<B>, glyphs: Glyphs) {
        self.init(sections: [table.helpSection(glyphs: glyphs), other.helpSection(glyphs: glyphs)])
    }

    /// Updates the filter or the scroll position; `area` is where the overlay is drawn (for page sizes).
    /// Returns false when the key is not the overlay's (the caller then usually closes it).
    public mutating func handle(_ key: Key, area: Rect) -> Bool {
        let layout = HelpLayout(overlay: self, area: area)
        switch key {
        case .escape:
            guard !filter.isEmpty else { return false }
            setFilter("")
        case .char("?") where filter.isEmpty:
            return false
        case .backspace:
            if !filter.isEmpty { setFilter(String(filter.dropLast())) }
        case .ctrl("u"):
            setFilter("")
        case .up: scrollOffset -= 1
        case .down: scrollOffset += 1
        case .pageUp: scrollOffset -= max(1, layout.list.height - 1)
        case .pageDown: scrollOffset += max(1, layout.list.height - 1)
        case .home: scrollOffset = 0
        case .end: scrollOffset = layout.maxOffset
        default:
            guard let char = key.printableCharacter else { return false }
            setFilter(filter + String(char))
        }
        scrollOffset = min(max(0, scrollOffset), HelpLayout(overlay: self, area: area).maxOffset)
        return true
    }

    private mutating func setFilter(_ text: String) {
        filter = text
        scrollOffset = 0
    }

    /// Draws the overlay centred on the whole canvas.
    public func render(into canvas: Canvas, glyphs: Glyphs) {
        render(into: canvas, area: canvas.bounds, glyphs: glyphs)
    }

    /// Draws the overlay centred in `area`, clearing what lies under its box.
    public func render(into canvas: Canvas, area: Rect, glyphs: Glyphs) {
        let layout = HelpLayout(overlay: self, area: area)
        let box = layout.box
        guard box.width >= 2, box.height >= 2 else { return }
        canvas.fill(box)
        let title = sections.first.map { "keys \(glyphs.dash) \($0.title)" } ?? "keys"
        canvas.box(box, title: title, glyphs: glyphs)

        let inner = layout.inner
        guard !inner.isEmpty else { return }
        let prompt = "/ filter: "
        let promptWidth = canvas.put(prompt, x: inner.x, y: inner.y, style: .dim, maxWidth: inner.width, glyphs: glyphs)
        if promptWidth < inner.width {
            // The end of a long filter stays visible, like in a text field.
            let room = inner.width - promptWidth
            let typed = String((filter + "_").suffix(room))
            canvas.put(typed, x: inner.x + promptWidth, y: inner.y, style: .bold)
        }

        let list = layout.list
        guard !list.isEmpty else { return }
        let rows = layout.rows
        if rows.isEmpty {
            canvas.put("no key matches '\(filter)'", x: list.x, y: list.y, style: .dim, maxWidth: list.width,
                       glyphs: glyphs)
            return
        }
        let offset = min(max(0, scrollOffset), layout.maxOffset)
        let remaining = rows.count - offset
        let cut = remaining > list.height
        let shown = cut ? list.height - 1 : remaining
        for index in 0..<shown {
            draw(rows[offset + index], into: canvas, x: list.x, y: list.y + index, width: list.width,
                 keysWidth: layout.keysWidth, glyphs: glyphs)
        }
        if cut {
            let hidden = rows[(offset + shown)...].filter(\.isEntry).count
            canvas.put("(\(hidden) more)", x: list.x, y: list.y + shown, style: .dim, maxWidth: list.width,
                       glyphs: glyphs)
        }
    }

    private func draw(_ row: HelpRow, into canvas: Canvas, x: Int, y: Int, width: Int, keysWidth: Int,
                      glyphs: Glyphs) {
        switch row {
        case .blank:
            break
        case let .header(title):
            canvas.put(title, x: x, y: y, style: .bold.underlined, maxWidth: width, glyphs: glyphs)
        case let .entry(entry):
            canvas.put(entry.keys, x: x, y: y, style: .bold, maxWidth: min(keysWidth, width), glyphs: glyphs)
            let descriptionX = keysWidth + HelpLayout.columnGap
            guard descriptionX < width else { return }
            canvas.put(entry.description, x: x + descriptionX, y: y, maxWidth: width - descriptionX, glyphs: glyphs)
        }
    }
}

/// One line of the help list.
enum HelpRow: Equatable {
    case header(String)
    case entry(HelpEntry)
    case blank

    var isEntry: Bool { if case .entry = self { return true } else { return false } }

    /// The list lines for `sections`: section titles (only when there are several sections) and a blank
    /// line between sections; sections without rows are left out.
    static func rows(for sections: [HelpSection]) -> [HelpRow] {
        var rows: [HelpRow] = []
        let titled = sections.count > 1
        for section in sections where !section.entries.isEmpty {
            if !rows.isEmpty { rows.append(.blank) }
            if titled { rows.append(.header(section.title)) }
            rows += section.entries.map(HelpRow.entry)
        }
        return rows
    }
}

/// Where the help overlay's parts go in an area. The box is sized for the unfiltered list so that it does
/// not jump around while the user types.
struct HelpLayout {
    /// Spaces between the keys column and the descriptions.
    static let columnGap = 3
    let box: Rect
    /// Inside the border, one column of padding on each side.
    let inner: Rect
    /// The scrolling list, below the filter line and a blank line.
    let list: Rect
    let rows: [HelpRow]
    let keysWidth: Int

    init(overlay: HelpOverlay, area: Rect) {
        let all = overlay.sections.flatMap(\.entries)
        let allRows = HelpRow.rows(for: overlay.sections)
        let keysLongest = all.map(\.keys.count).max() ?? 0
        let descriptionLongest = all.map(\.description.count).max() ?? 0
        let headerLongest = overlay.sections.map(\.title.count).max() ?? 0
        let contentWidth = max(keysLongest + HelpLayout.columnGap + descriptionLongest, headerLongest + 8, 30)
        box = area.centered(width: contentWidth + 4, height: max(allRows.count, 1) + 4)
        inner = box.inset(horizontal: 2, vertical: 1)
        list = inner.splitVertically(topHeight: 2).bottom
        rows = HelpRow.rows(for: overlay.sections.map { $0.filtered(by: overlay.filter) })
        keysWidth = min(keysLongest, max(1, list.width / 2))
    }

    /// The largest scroll offset that still fills the list.
    var maxOffset: Int { max(0, rows.count - list.height) }
}
