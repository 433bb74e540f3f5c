/// A terminal colour: the terminal's own default, one of the xterm-256 palette entries, or 24-bit RGB.
public enum TermColor: Hashable, Sendable {
    /// Whatever the terminal uses by default (respects the user's theme and NO_COLOR setups).
    case standard
    /// An xterm-256 colour number (0–15 are the user's themed ANSI colours).
    case index(UInt8)
    /// A 24-bit colour (images on truecolor terminals); the curses layer draws its nearest xterm-256 colour
    /// first and the exact one over it.
    case rgb(UInt8, UInt8, UInt8)

    /// The xterm-256 colour that stands in for this one where only a palette can be addressed.
    public var paletteIndex: UInt8? {
        switch self {
        case .standard: nil
        case .index(let i): i
        case .rgb(let r, let g, let b): ImageCells.xterm256((r, g, b))
        }
    }
}

/// How a cell is drawn: colours and attributes. Widgets combine these; the curses layer maps them to attributes.
public struct Style: Hashable, Sendable {
    public var fg: TermColor
    public var bg: TermColor
    public var bold: Bool
    public var dim: Bool
    public var reverse: Bool
    public var underline: Bool

    public init(fg: TermColor = .standard, bg: TermColor = .standard, bold: Bool = false, dim: Bool = false,
                reverse: Bool = false, underline: Bool = false) {
        self.fg = fg
        self.bg = bg
        self.bold = bold
        self.dim = dim
        self.reverse = reverse
        self.underline = underline
    }

    /// Default colours, no attributes.
    public static let plain = Style()
    public static let bold = Style(bold: true)
    public static let dim = Style(dim: true)
    public static let reverse = Style(reverse: true)
    public static let underline = Style(underline: true)

    /// A plain style with foreground colour `color`.
    public static func fg(_ color: TermColor) -> Style { Style(fg: color) }
    /// A plain style with xterm-256 foreground colour `index`.
    public static func fg(_ index: UInt8) -> Style { Style(fg: .index(index)) }

    /// This style with another foreground colour.
    public func withFg(_ color: TermColor) -> Style { var s = self; s.fg = color; return s }
    /// This style with another background colour.
    public func withBg(_ color: TermColor) -> Style { var s = self; s.bg = color; return s }
    /// This style, bold.
    public var bolded: Style { var s = self; s.bold = true; return s }
    /// This style, dimmed.
    public var dimmed: Style { var s = self; s.dim = true; return s }
    /// This style with reverse video toggled on (used for selections and the text cursor).
    public var reversed: Style { var s = self; s.reverse = true; return s }
    /// This style, underlined.
    public var underlined: Style { var s = self; s.underline = true; return s }
}

/// One character position of the off-screen grid.
public struct Cell: Equatable, Sendable {
    public var char: Character
    public var style: Style

    public init(_ char: Character = " ", style: Style = .plain) {
        self.char = char
        self.style = style
    }

    /// A space in the plain style: what a cleared canvas holds.
    public static let blank = Cell()
}
