/// One row of the help overlay: the keys ("↑ k") and what they do.
public struct HelpEntry: Equatable, Sendable {
    public var keys: String
    public var description: String

    public init(keys: String, description: String) {
        self.keys = keys
        self.description = description
    }

    /// Whether the keys or the description contain `filter`, ignoring case; an empty filter matches all.
    public func matches(_ filter: String) -> Bool {
        let needle = filter.lowercased()
        return needle.isEmpty || keys.lowercased().contains(needle) || description.lowercased().contains(needle)
    }
}

/// A titled group of help rows: one per key table, so tables with different action types can share an overlay.
public struct HelpSection: Equatable, Sendable {
    public var title: String
    public var entries: [HelpEntry]

    public init(title: String, entries: [HelpEntry]) {
        self.title = title
        self.entries = entries
    }

    /// The same section with only the rows that match `filter`.
    public func filtered(by filter: String) -> HelpSection {
        HelpSection(title: title, entries: entries.filter { $0.matches(filter) })
    }
}
