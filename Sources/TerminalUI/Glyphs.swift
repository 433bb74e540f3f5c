/// Every non-ASCII character a widget draws, in one place, so the whole UI can fall back to plain ASCII
/// when the locale is not UTF-8 (or the font lacks box drawing and braille).
public struct Glyphs: Sendable {
    // Box drawing.
    public var topLeft: Character
    public var topRight: Character
    public var bottomLeft: Character
    public var bottomRight: Character
    public var horizontal: Character
    public var vertical: Character
    /// Joins a horizontal rule to a box's left and right edges (`├`, `┤`).
    public var teeLeft: Character
    public var teeRight: Character

    // Progress bars.
    public var progressFull: Character
    public var progressEmpty: Character
    /// Left-aligned partial blocks for 1/8 … 7/8 of a cell; empty when sub-cell precision is unavailable.
    public var progressPartials: [Character]

    // Text and keys.
    /// The last visible character of a cut string.
    public var ellipsis: Character
    public var arrowUp: Character
    public var arrowDown: Character
    public var arrowLeft: Character
    public var arrowRight: Character
    /// How the Enter key is named in hints and help.
    public var enterKey: String
    /// Marks the selected row of a list or table.
    public var selectionMarker: Character
    public var check: Character
    public var cross: Character
    public var bullet: Character
    /// Stands for a missing or undefined value ("—").
    public var dash: Character
    /// The multiplication sign of sizes such as 80×24.
    public var times: Character

    // Charts.
    /// Whether line charts may draw with braille dots (2×4 per cell); otherwise they fall back to markers.
    public var usesBraille: Bool
    /// The dotted column a chart marker (an event such as "unfroze final") is drawn with.
    public var dottedVertical: Character

    /// Defaults to the Unicode set; override single glyphs as needed.
    public init(topLeft: Character = "┌", topRight: Character = "┐", bottomLeft: Character = "└",
                bottomRight: Character = "┘", horizontal: Character = "─", vertical: Character = "│",
                teeLeft: Character = "├", teeRight: Character = "┤",
                progressFull: Character = "█", progressEmpty: Character = "░",
                progressPartials: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"],
                ellipsis: Character = "…", arrowUp: Character = "↑", arrowDown: Character = "↓",
                arrowLeft: Character = "←", arrowRight: Character = "→", enterKey: String = "⏎",
                selectionMarker: Character = "▸", check: Character = "✓", cross: Character = "✗",
                bullet: Character = "•", dash: Character = "—", times: Character = "×",
                usesBraille: Bool = true, dottedVertical: Character = "┆") {
        self.topLeft = topLeft
        self.topRight = topRight
        self.bottomLeft = bottomLeft
        self.bottomRight = bottomRight
        self.horizontal = horizontal
        self.vertical = vertical
        self.teeLeft = teeLeft
        self.teeRight = teeRight
        self.progressFull = progressFull
        self.progressEmpty = progressEmpty
        self.progressPartials = progressPartials
        self.ellipsis = ellipsis
        self.arrowUp = arrowUp
        self.arrowDown = arrowDown
        self.arrowLeft = arrowLeft
        self.arrowRight = arrowRight
        self.enterKey = enterKey
        self.selectionMarker = selectionMarker
        self.check = check
        self.cross = cross
        self.bullet = bullet
        self.dash = dash
        self.times = times
        self.usesBraille = usesBraille
        self.dottedVertical = dottedVertical
    }

    /// Box drawing, block elements and braille: for UTF-8 terminals.
    public static let unicode = Glyphs()

    /// Seven-bit characters only: for non-UTF-8 locales.
    public static let ascii = Glyphs(
        topLeft: "+", topRight: "+", bottomLeft: "+", bottomRight: "+", horizontal: "-", vertical: "|",
        teeLeft: "+", teeRight: "+",
        progressFull: "#", progressEmpty: "-", progressPartials: [],
        ellipsis: "~", arrowUp: "^", arrowDown: "v", arrowLeft: "<", arrowRight: ">", enterKey: "Enter",
        selectionMarker: ">", check: "y", cross: "n", bullet: "*", dash: "-", times: "x",
        usesBraille: false, dottedVertical: ":")

    /// Whether every glyph is seven-bit ASCII (then other widgets, such as run markers, avoid Unicode too).
    public var isASCII: Bool {
        let singles: [Character] = [topLeft, topRight, bottomLeft, bottomRight, horizontal, vertical, teeLeft,
                                    teeRight, progressFull, progressEmpty, ellipsis, arrowUp, arrowDown, arrowLeft,
                                    arrowRight, selectionMarker, check, cross, bullet, dash, times, dottedVertical]
        return singles.allSatisfy(\.isASCII) && progressPartials.allSatisfy(\.isASCII) && enterKey.allSatisfy(\.isASCII)
    }

    /// `text` cut to at most `width` characters, ending in the ellipsis glyph when anything was cut.
    public func truncate(_ text: String, to width: Int) -> String {
        guard width > 0 else { return "" }
        guard text.count > width else { return text }
        return String(text.prefix(width - 1)) + String(ellipsis)
    }
}
