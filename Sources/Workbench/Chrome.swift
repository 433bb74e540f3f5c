import TerminalUI

/// What every screen has: the title line (where you are, the run's state), the status line (feedback), the
/// hint line generated from the screen's key table, and the overlays (help, confirmation).
enum Chrome {
    static let minimumSize = (width: 80, height: 24)

    /// The title line: `left` after "tlab ─", `right` flush right.
    static func title(_ left: String, right: String = "", into canvas: Canvas, theme: Theme) {
        let w = canvas.width
        canvas.fill(Rect(x: 0, y: 0, width: w, height: 1), style: theme.title)
        let dash = theme.glyphs.horizontal
        canvas.put(" tlab \(dash) \(left)", x: 0, y: 0, style: theme.title, maxWidth: max(0, w - right.count - 2), glyphs: theme.glyphs)
        if !right.isEmpty { canvas.put(right + " ", x: max(0, w - right.count - 1), y: 0, style: theme.title, glyphs: theme.glyphs) }
    }

    /// The status line (second to last row): the latest message, else `fallback` dimmed.
    static func status(_ message: StatusMessage?, fallback: String = "", into canvas: Canvas, theme: Theme) {
        let y = canvas.height - 2
        if let m = message {
            canvas.put(" " + m.text, x: 0, y: y, style: m.isError ? theme.error : theme.ok, maxWidth: canvas.width, glyphs: theme.glyphs)
        } else if !fallback.isEmpty {
            canvas.put(" " + fallback, x: 0, y: y, style: theme.dim, maxWidth: canvas.width, glyphs: theme.glyphs)
        }
    }

    /// The hint line (last row), generated from the same table that dispatches the keys.
    static func hints(_ table: KeyTable<Action>, into canvas: Canvas, theme: Theme) {
        table.renderHints(into: canvas, x: 1, y: canvas.height - 1, width: canvas.width - 2, glyphs: theme.glyphs,
                          keyStyle: theme.key, textStyle: .plain)
    }

    /// A centred box asking a question; its keys come from its own table, shown as its hint line.
    static func confirmation(_ c: Confirmation, into canvas: Canvas, theme: Theme) {
        let width = min(canvas.width - 4, max(c.lines.map(\.count).max() ?? 0, c.title.count) + 6)
        let height = c.lines.count + 5
        let box = canvas.bounds.centered(width: width, height: height)
        canvas.fill(box)
        canvas.box(box, title: c.title, style: theme.focusedBorder, titleStyle: theme.heading, glyphs: theme.glyphs)
        for (i, line) in c.lines.enumerated() {
            canvas.put(line, x: box.x + 2, y: box.y + 2 + i, maxWidth: box.width - 4, glyphs: theme.glyphs)
        }
        c.table.renderHints(into: canvas, x: box.x + 2, y: box.maxY - 2, width: box.width - 4, glyphs: theme.glyphs,
                            keyStyle: theme.key, textStyle: .plain)
    }

    /// Keys that work on every screen (listed in every help overlay).
    static func globalTable(screen: Screen) -> KeyTable<Action> {
        var b: [KeyBinding<Action>] = []
        if screen != .setup { b.append(KeyBinding(keys: [.char("n")], hint: "new", description: "set up a new experiment", priority: 2, action: .newExperiment)) }
        if screen != .runs { b.append(KeyBinding(keys: [.char("l")], hint: "runs", description: "list every run (open, resume, delete)", priority: 3, action: .showRuns)) }
        if screen != .setup { b.append(KeyBinding(keys: [.escape], hint: "back", description: "go back one level (clear a filter, close an overlay)", priority: 5, action: .back)) }
        b.append(KeyBinding(keys: [.char("?")], hint: "help", description: "all keys, filtered as you type", priority: 9, action: .help))
        b.append(KeyBinding(keys: [.char("q"), .ctrl("c")], hint: "quit", description: "quit (asks first while a run trains; runs keep training)", priority: 8, action: .quit))
        return KeyTable(title: "everywhere", bindings: b)
    }

    /// A screen's table followed by the global keys: what the hint line shows and what dispatch searches.
    /// A global key the screen binds itself (`l` moving right in the setup's options pane) is the screen's
    /// there, so it leaves the global list: the hints and the help never promise what a key will not do.
    static func combined(_ table: KeyTable<Action>, screen: Screen) -> KeyTable<Action> {
        let taken = Set(table.bindings.flatMap(\.keys))
        let global = globalTable(screen: screen).bindings.compactMap { b -> KeyBinding<Action>? in
            var b = b
            b.keys = b.keys.filter { !taken.contains($0) }
            return b.keys.isEmpty ? nil : b
        }
        return KeyTable(title: table.title, bindings: table.bindings + global)
    }
}
