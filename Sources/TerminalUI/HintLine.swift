extension KeyTable {
    /// Draws the hint line at (x, y): keys in `keyStyle`, their text in `textStyle`, cut to `width` columns.
    public func renderHints(into canvas: Canvas, x: Int, y: Int, width: Int, glyphs: Glyphs,
                            keyStyle: Style = .bold, textStyle: Style = .plain) {
        guard width > 0 else { return }
        let hints = hints(width: width, glyphs: glyphs)
        // When even the help hint is too wide, fall back to the plain truncated text.
        let full = hints.map(\.rendered).joined(separator: "  ")
        guard full.count <= width else {
            canvas.put(full, x: x, y: y, style: textStyle, maxWidth: width, glyphs: glyphs)
            return
        }
        var column = x
        for (index, hint) in hints.enumerated() {
            if index > 0 {
                canvas.put("  ", x: column, y: y, style: textStyle)
                column += 2
            }
            canvas.put(hint.key, x: column, y: y, style: keyStyle)
            column += hint.key.count
            canvas.put(" " + hint.text, x: column, y: y, style: textStyle)
            column += 1 + hint.text.count
        }
    }
}
