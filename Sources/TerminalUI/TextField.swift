/// A one-line editable text field (a learning rate, a run name, a filter).
///
/// Editing keys: printable characters insert at the cursor; ← → Home End (and ^A ^E) move; Backspace and
/// Del delete; ^U clears; ^K deletes to the end; ^W deletes the word before the cursor. Validation belongs to
/// the caller, which sets `error` (editing leaves it alone).
public struct TextField: Equatable, Sendable {
    public var text: String {
        didSet { cursor = min(cursor, text.count) }
    }
    /// Position in characters, 0 … text.count (the cursor sits before the character at that index).
    public var cursor: Int {
        didSet { cursor = min(max(0, cursor), text.count) }
    }
    /// Set by the caller when the text does not validate; the text is then drawn in red.
    public var error: String?
    /// Shown dimmed while the text is empty and the field is not focused.
    public var placeholder: String?

    /// The cursor starts at the end of the text unless given.
    public init(text: String = "", cursor: Int? = nil, error: String? = nil, placeholder: String? = nil) {
        self.text = text
        self.cursor = min(max(0, cursor ?? text.count), text.count)
        self.error = error
        self.placeholder = placeholder
    }

    /// The style the text takes while `error` is set.
    public static let errorStyle = Style(fg: .index(1))

    /// Applies an editing key; returns whether the field used it (keys such as Enter, Tab, Esc, ↑ ↓ are the
    /// caller's). Movement and deletion keys are used even at the ends of the text, where they do nothing.
    public mutating func handle(_ key: Key) -> Bool {
        switch key {
        case .left: cursor -= 1
        case .right: cursor += 1
        case .home, .ctrl("a"): cursor = 0
        case .end, .ctrl("e"): cursor = text.count
        case .backspace:
            guard cursor > 0 else { return true }
            remove(from: cursor - 1, to: cursor)
        case .delete:
            guard cursor < text.count else { return true }
            remove(from: cursor, to: cursor + 1)
        case .ctrl("u"):
            text = ""
            cursor = 0
        case .ctrl("k"):
            remove(from: cursor, to: text.count)
        case .ctrl("w"):
            let before = Array(text.prefix(cursor))
            var start = before.count
            while start > 0, before[start - 1] == " " { start -= 1 }
            while start > 0, before[start - 1] != " " { start -= 1 }
            remove(from: start, to: cursor)
        default:
            guard let char = key.printableCharacter else { return false }
            let index = text.index(text.startIndex, offsetBy: cursor)
            text.insert(char, at: index)
            cursor += 1
        }
        return true
    }

    private mutating func remove(from start: Int, to end: Int) {
        let lower = text.index(text.startIndex, offsetBy: start)
        let upper = text.index(text.startIndex, offsetBy: end)
        text.removeSubrange(lower..<upper)
        cursor = start
    }

    /// The first character shown when `width` columns are available: scrolls so that the cursor stays visible
    /// (with the cell after the text counting as a position when focused).
    public func scrollStart(width: Int, focused: Bool) -> Int {
        guard focused, width > 0 else { return 0 }
        return max(0, cursor - (width - 1))
    }

    /// Draws the field on one row, `width` cells wide, all in `style` (so a field can be underlined or tinted).
    ///
    /// When focused, the cell under the cursor is reversed. Unfocused text that is too long is cut with the
    /// ellipsis glyph; focused text scrolls horizontally instead.
    public func render(into canvas: Canvas, x: Int, y: Int, width: Int, style: Style = .plain, glyphs: Glyphs,
                       focused: Bool) {
        guard width > 0 else { return }
        canvas.fill(Rect(x: x, y: y, width: width, height: 1), style: style)
        let textStyle = error == nil ? style : style.withFg(TextField.errorStyle.fg)
        if text.isEmpty, !focused, let placeholder {
            canvas.put(placeholder, x: x, y: y, style: style.dimmed, maxWidth: width, glyphs: glyphs)
            return
        }
        guard focused else {
            canvas.put(text, x: x, y: y, style: textStyle, maxWidth: width, glyphs: glyphs)
            return
        }
        let start = scrollStart(width: width, focused: true)
        let visible = String(text.dropFirst(start).prefix(width))
        canvas.put(visible, x: x, y: y, style: textStyle)
        let cursorColumn = x + cursor - start
        var cell = canvas[x: cursorColumn, y: y]
        cell.style = textStyle.reversed
        canvas[x: cursorColumn, y: y] = cell
    }
}
