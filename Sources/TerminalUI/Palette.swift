/// Colours and markers that tell runs apart in charts and tables.
///
/// Run colours come from the Okabe–Ito palette, chosen to stay distinguishable under the common forms of
/// colour blindness, mapped to the nearest xterm-256 colours. A run keeps its colour and marker across
/// screens and sessions because both derive from a stable FNV-1a hash of its id.
public enum Palette {
    public static let orange = TermColor.index(178)        // #E69F00 → #d7af00
    public static let skyBlue = TermColor.index(74)        // #56B4E9 → #5fafd7
    public static let bluishGreen = TermColor.index(35)    // #009E73 → #00af5f
    public static let yellow = TermColor.index(221)        // #F0E442 → #ffd75f
    public static let blue = TermColor.index(25)           // #0072B2 → #005faf
    public static let vermillion = TermColor.index(166)    // #D55E00 → #d75f00
    public static let reddishPurple = TermColor.index(175) // #CC79A7 → #d787af

    /// The run colours, in Okabe and Ito's order (their black is left out: it vanishes on dark terminals).
    public static let runColors: [TermColor] = [orange, skyBlue, bluishGreen, yellow, blue, vermillion, reddishPurple]

    /// Markers for charts drawn without colour (NO_COLOR, ASCII): series differ by marker instead.
    public static let runMarkers: [Character] = ["•", "+", "x", "o", "*", "#"]
    /// The markers that are plain ASCII, for non-UTF-8 terminals.
    public static let asciiRunMarkers: [Character] = ["+", "x", "o", "*", "#"]

    /// The run's colour, the same on every launch.
    public static func runColor(for runID: String) -> TermColor {
        runColors[Int(fnv1a(runID) % UInt64(runColors.count))]
    }

    /// The run's chart marker, the same on every launch; ASCII-only when the glyphs are.
    public static func runMarker(for runID: String, glyphs: Glyphs = .unicode) -> Character {
        let markers = glyphs.isASCII ? asciiRunMarkers : runMarkers
        // The upper half of the hash, so that marker and colour vary independently.
        return markers[Int((fnv1a(runID) >> 32) % UInt64(markers.count))]
    }

    /// 64-bit FNV-1a of the UTF-8 bytes: tiny, stable across processes (unlike `hashValue`), well spread.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}
