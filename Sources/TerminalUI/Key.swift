/// A key press, as decoded by the curses layer.
///
/// `.ctrl` carries the lowercase letter (Ctrl-C is `.ctrl("c")`); `.char` carries the character typed,
/// so Shift-q arrives as `.char("Q")`.
public enum Key: Hashable, Sendable {
    case char(Character)
    case up, down, left, right
    case enter, escape, tab, backTab, backspace, delete
    case home, end, pageUp, pageDown
    /// The terminal changed size: not a key, but it arrives through the same queue.
    case resize
    case ctrl(Character)
    /// F1 … F12.
    case function(Int)

    /// How the key is named in hint lines and the help overlay: "↑", "⏎", "Tab", "Esc", "^C", "q", "Space".
    public func label(glyphs: Glyphs) -> String {
        switch self {
        case .char(" "): return "Space"
        case let .char(c): return String(c)
        case .up: return String(glyphs.arrowUp)
        case .down: return String(glyphs.arrowDown)
        case .left: return String(glyphs.arrowLeft)
        case .right: return String(glyphs.arrowRight)
        case .enter: return glyphs.enterKey
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .backspace: return "Bksp"
        case .delete: return "Del"
        case .home: return "Home"
        case .end: return "End"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .resize: return "Resize"
        case let .ctrl(c): return "^" + c.uppercased()
        case let .function(n): return "F\(n)"
        }
    }

    /// The character a text field should insert for this key, if it is a printable character.
    public var printableCharacter: Character? {
        guard case let .char(c) = self, let scalar = c.unicodeScalars.first else { return nil }
        let value = scalar.value
        return value < 0x20 || (0x7F..<0xA0).contains(value) ? nil : c
    }
}
