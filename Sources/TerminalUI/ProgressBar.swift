/// A one-row progress bar with a label after it: `██████▍░░░░ epoch 5  51%`.
public enum ProgressBar {
    /// The bar never shrinks below this many cells to make room for its label.
    public static let minimumBarWidth = 4

    /// Draws the bar on the first row of `rect`, followed by a space and `label` when it is not empty.
    ///
    /// The bar takes the room the label leaves, but keeps at least `minimumBarWidth` cells (the label is cut
    /// instead). `fraction` is clamped to 0…1 and NaN counts as 0. Filled cells use `style`, empty ones
    /// `style` dimmed; the label is plain.
    public static func render(fraction: Double, label: String, into canvas: Canvas, rect: Rect,
                              style: Style = .plain, glyphs: Glyphs) {
        guard rect.width > 0, rect.height > 0 else { return }
        let suffix = label.isEmpty ? "" : " " + label
        let barWidth = max(rect.width - suffix.count, min(rect.width, minimumBarWidth))
        let labelWidth = rect.width - barWidth
        let (filled, empty) = bar(fraction: fraction, width: barWidth, glyphs: glyphs)
        canvas.put(filled, x: rect.x, y: rect.y, style: style)
        canvas.put(empty, x: rect.x + filled.count, y: rect.y, style: style.dimmed)
        if labelWidth > 0 {
            canvas.put(suffix, x: rect.x + barWidth, y: rect.y, maxWidth: labelWidth, glyphs: glyphs)
        }
    }

    /// The bar's characters for `width` cells: the filled part (with a partial block when the glyphs have
    /// them) and the empty part.
    public static func bar(fraction: Double, width: Int, glyphs: Glyphs) -> (filled: String, empty: String) {
        guard width > 0 else { return ("", "") }
        let clamped = fraction.isNaN ? 0 : min(max(fraction, 0), 1)
        let steps = glyphs.progressPartials.count + 1
        let units = Int((clamped * Double(width * steps)).rounded())
        let full = units / steps, remainder = units % steps
        var filled = String(repeating: glyphs.progressFull, count: full)
        if remainder > 0 { filled.append(glyphs.progressPartials[remainder - 1]) }
        return (filled, String(repeating: glyphs.progressEmpty, count: width - filled.count))
    }
}
