/// One key binding: the keys, what the hint line and the help overlay say about it, and the action it triggers.
///
/// A screen declares its bindings once, in a `KeyTable`; dispatch, the hint line and the help overlay are all
/// generated from that table, so they cannot disagree.
public struct KeyBinding<Action> {
    /// Every key that triggers the action, e.g. `[.up, .char("k")]`.
    public var keys: [Key]
    /// Replaces the key in the hint line with fixed text, e.g. "↑↓" on the up binding so that one hint,
    /// "↑↓ move", stands for both the up and the down bindings (the down binding then has no `hint`).
    /// Prefer `hintKeys` for keys whose names change with the glyphs.
    public var label: String?
    /// The keys the hint shows, names joined without spaces: `[.up, .down]` gives "↑↓" (or "^v" in ASCII).
    /// Used when `label` is nil; when both are nil the hint shows the first of `keys`.
    public var hintKeys: [Key]?
    /// The hint-line text ("move"); nil keeps the binding out of the hint line but not out of the help.
    public var hint: String?
    /// The help-overlay text ("move the selection up").
    public var description: String
    /// When the hint line is too narrow, hints with the lowest priority are dropped first.
    public var priority: Int
    public var action: Action

    public init(keys: [Key], label: String? = nil, hintKeys: [Key]? = nil, hint: String? = nil, description: String,
                priority: Int = 0, action: Action) {
        self.keys = keys
        self.label = label
        self.hintKeys = hintKeys
        self.hint = hint
        self.description = description
        self.priority = priority
        self.action = action
    }

    /// Whether the binding appears in the hint line.
    public var showInHints: Bool { hint != nil }

    /// All keys, as the help overlay lists them: "↑ k".
    public func keysLabel(glyphs: Glyphs) -> String {
        keys.map { $0.label(glyphs: glyphs) }.joined(separator: " ")
    }

    /// The key part of the binding's hint: `label`, else `hintKeys`, else the first key.
    public func hintKeyLabel(glyphs: Glyphs) -> String {
        if let label { return label }
        if let hintKeys { return hintKeys.map { $0.label(glyphs: glyphs) }.joined() }
        return keys.first?.label(glyphs: glyphs) ?? ""
    }
}

/// One item of a hint line: "↑↓ move" is key "↑↓", text "move".
public struct KeyHint: Equatable, Sendable {
    public var key: String
    public var text: String

    public init(key: String, text: String) {
        self.key = key
        self.text = text
    }

    /// "key text".
    public var rendered: String { key + " " + text }
}

/// A screen's key bindings, in the order they are listed in hints and help.
public struct KeyTable<Action> {
    /// Names the table in the help overlay ("keys — runs").
    public var title: String
    public var bindings: [KeyBinding<Action>]

    public init(title: String, bindings: [KeyBinding<Action>]) {
        self.title = title
        self.bindings = bindings
    }

    /// The action of the first binding that lists `key`.
    public func action(for key: Key) -> Action? {
        bindings.first { $0.keys.contains(key) }?.action
    }

    /// The binding that opens the help, if the table has one ('?').
    private var helpBinding: KeyBinding<Action>? {
        bindings.first { $0.keys.contains(.char("?")) }
    }

    /// The hints that fit in `width` columns, in table order, two spaces apart.
    ///
    /// Hints are dropped lowest priority first (the later one on ties) until the rest fit; "? help" is kept
    /// last whenever the table binds '?', even if nothing else fits.
    public func hints(width: Int, glyphs: Glyphs) -> [KeyHint] {
        let help = helpBinding
        var items: [(hint: KeyHint, priority: Int)] = []
        for binding in bindings where binding.showInHints && !binding.keys.contains(.char("?")) {
            let hint = KeyHint(key: binding.hintKeyLabel(glyphs: glyphs), text: binding.hint ?? "")
            if !items.contains(where: { $0.hint == hint }) { items.append((hint, binding.priority)) }
        }
        let helpHint = help.map { KeyHint(key: "?", text: $0.hint ?? "help") }

        func totalWidth() -> Int {
            let all = items.map(\.hint) + (helpHint.map { [$0] } ?? [])
            return all.reduce(0) { $0 + $1.rendered.count } + max(0, all.count - 1) * 2
        }
        while !items.isEmpty, totalWidth() > width {
            let lowest = items.map(\.priority).min()!
            let victim = items.lastIndex { $0.priority == lowest }!
            items.remove(at: victim)
        }
        return items.map(\.hint) + (helpHint.map { [$0] } ?? [])
    }

    /// The hint line as plain text: "↑↓ move  ⏎ open  q quit  ? help", cut to `width`.
    public func hintLine(width: Int, glyphs: Glyphs) -> String {
        let line = hints(width: width, glyphs: glyphs).map(\.rendered).joined(separator: "  ")
        return glyphs.truncate(line, to: width)
    }

    /// Every binding as a help row, in table order.
    public func helpSection(glyphs: Glyphs) -> HelpSection {
        HelpSection(title: title, entries: bindings.map {
            HelpEntry(keys: $0.keysLabel(glyphs: glyphs), description: $0.description)
        })
    }

    /// Help rows whose keys or description contain `filter`, ignoring case (all rows for an empty filter).
    public func helpEntries(filter: String, glyphs: Glyphs = .unicode) -> [(keys: String, description: String)] {
        helpSection(glyphs: glyphs).filtered(by: filter).entries.map { ($0.keys, $0.description) }
    }
}
