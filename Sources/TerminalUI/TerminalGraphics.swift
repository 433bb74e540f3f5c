import Foundation

/// How a terminal can show an image, best first: the kitty graphics protocol (full resolution, through
/// Unicode placeholder cells that survive curses redraws and tmux), sixel (full resolution, drawn over the
/// cells), `▀` half blocks in 24-bit colour, the same in the xterm-256 palette, a brightness ramp of characters.
public enum ImageProtocol: String, CaseIterable, Sendable {
    case kitty, sixel, truecolor, palette256 = "256", ramp

    /// What the terminal told us before curses started, and what the environment says (`TerminalProbe`).
    public struct Facts: Equatable, Sendable {
        /// The terminal answered the kitty graphics query with OK.
        public var kittyReplied = false
        /// The attributes of the primary device attributes reply (`ESC [ ? 62 ; 4 ; … c`); 4 is sixel.
        public var deviceAttributes: [Int] = []
        /// Inside tmux, and whether tmux passes escape sequences through to the outer terminal.
        public var insideTmux = false, tmuxPassthrough = false
        /// Inside tmux, the terminal tmux runs in (`#{client_termname}`): tmux overwrites TERM and TERM_PROGRAM.
        public var outerTerminal: String?
        public init(kittyReplied: Bool = false, deviceAttributes: [Int] = [], insideTmux: Bool = false, tmuxPassthrough: Bool = false, outerTerminal: String? = nil) {
            self.kittyReplied = kittyReplied; self.deviceAttributes = deviceAttributes; self.insideTmux = insideTmux; self.tmuxPassthrough = tmuxPassthrough
            self.outerTerminal = outerTerminal
        }
    }

    /// The protocol to use: `requested` (the `--images` flag or TLAB_IMAGES) when given, otherwise the best
    /// the terminal showed it supports. Without colour (NO_COLOR, a monochrome terminal) only the ramp is left.
    public static func choose(requested: ImageProtocol?, colors: Bool, colors256: Bool, facts: Facts, environment: [String: String]) -> ImageProtocol {
        if let requested { return requested }
        guard colors else { return .ramp }
        if kittyCapable(facts: facts, environment: environment) { return .kitty }
        if facts.deviceAttributes.contains(4) { return .sixel }
        if let c = environment["COLORTERM"]?.lowercased(), c == "truecolor" || c == "24bit" { return .truecolor }
        return colors256 ? .palette256 : .ramp
    }

    /// The terminal answered the query, or (inside tmux, where the outer terminal's answer does not come back)
    /// tmux passes sequences through and runs in a terminal that implements placeholders (kitty, Ghostty).
    static func kittyCapable(facts: Facts, environment: [String: String]) -> Bool {
        if facts.kittyReplied { return true }
        guard facts.insideTmux, facts.tmuxPassthrough else { return false }
        if let outer = facts.outerTerminal, !outer.isEmpty { return outer == "xterm-kitty" || outer == "xterm-ghostty" }
        return environment["KITTY_WINDOW_ID"] != nil || environment["GHOSTTY_RESOURCES_DIR"] != nil
    }

    /// Parses a flag or TLAB_IMAGES value; "auto" (or empty) is nil.
    public static func parse(_ text: String) -> ImageProtocol?? {
        let t = text.lowercased()
        if t.isEmpty || t == "auto" { return .some(nil) }
        if t == "256" || t == "palette" || t == "256color" { return .some(.palette256) }
        if t == "halfblock" || t == "24bit" { return .some(.truecolor) }
        if t == "gray" || t == "text" { return .some(.ramp) }
        return ImageProtocol(rawValue: t).map { .some($0) } ?? nil
    }
}

/// A raster image a graphics protocol shows over `rect` (cells), full resolution: the terminal layer sends it
/// after the cells. `key` names the picture (file and size) so an unchanged one is not sent again.
public struct TerminalGraphic: Equatable, Sendable {
    public enum Kind: Equatable, Sendable {
        /// Transmitted once under `id`; the placeholder cells in `rect` show it.
        case kitty(id: UInt32)
        /// Drawn over `rect` whenever those cells were redrawn.
        case sixel
    }
    public var kind: Kind
    public var key: String
    public var rect: Rect
    /// RGB, row-major, `width × height` pixels.
    public var rgb: [UInt8]
    public var width, height: Int

    public init(kind: Kind, key: String, rect: Rect, rgb: [UInt8], width: Int, height: Int) {
        self.kind = kind; self.key = key; self.rect = rect; self.rgb = rgb; self.width = width; self.height = height
    }
}

/// The kitty graphics protocol: transmission of RGB pixels into a virtual placement (`U=1`) and the Unicode
/// placeholder cells (U+10EEEE with a row and a column diacritic, the image id in the foreground colour) that
/// display it. Placeholders are ordinary characters to curses and tmux, so redraws and panes keep them right.
public enum KittyGraphics {
    public static let placeholder: Unicode.Scalar = "\u{10EEEE}"

    /// The first 64 row/column diacritics of the protocol's table (kitty's gen/rowcolumn-diacritics.txt):
    /// the n-th one encodes row or column n. Images are kept to 64 × 64 cells.
    public static let diacritics: [UInt32] = [
        0x0305, 0x030D, 0x030E, 0x0310, 0x0312, 0x033D, 0x033E, 0x033F, 0x0346, 0x034A, 0x034B, 0x034C, 0x0350, 0x0351, 0x0352, 0x0357,
        0x035B, 0x0363, 0x0364, 0x0365, 0x0366, 0x0367, 0x0368, 0x0369, 0x036A, 0x036B, 0x036C, 0x036D, 0x036E, 0x036F, 0x0483, 0x0484,
        0x0485, 0x0486, 0x0487, 0x0592, 0x0593, 0x0594, 0x0595, 0x0597, 0x0598, 0x0599, 0x059C, 0x059D, 0x059E, 0x059F, 0x05A0, 0x05A1,
        0x05A8, 0x05A9, 0x05AB, 0x05AC, 0x05AF, 0x05C4, 0x0610, 0x0611, 0x0612, 0x0613, 0x0614, 0x0615, 0x0616, 0x0617, 0x0657, 0x0658,
    ]
    public static var maxCells: Int { diacritics.count }

    /// The placeholder for (row, column) of an image: U+10EEEE, the row's diacritic, the column's.
    public static func placeholderCharacter(row: Int, column: Int) -> Character {
        var s = String.UnicodeScalarView()
        s.append(placeholder)
        s.append(Unicode.Scalar(diacritics[row])!)
        s.append(Unicode.Scalar(diacritics[column])!)
        return Character(String(s))
    }

    /// Transmits `rgb` (width × height) as image `id` with a virtual placement of `columns` × `rows` cells
    /// (kitty scales it to fit), in base64 chunks of at most 4096 bytes, replies suppressed (`q=2`).
    public static func transmit(id: UInt32, rgb: [UInt8], width: Int, height: Int, columns: Int, rows: Int) -> [String] {
        let payload = Data(rgb).base64EncodedString()
        let utf8 = Array(payload.utf8)
        var chunks: [String] = []
        var start = 0
        repeat {
            let end = min(utf8.count, start + 4096)
            let more = end < utf8.count ? 1 : 0
            let control = start == 0 ? "a=T,U=1,f=24,t=d,q=2,i=\(id),s=\(width),v=\(height),c=\(columns),r=\(rows),m=\(more)" : "m=\(more)"
            chunks.append("\u{1B}_G\(control);\(String(decoding: utf8[start..<end], as: UTF8.self))\u{1B}\\")
            start = end
        } while start < utf8.count
        return chunks
    }

    /// Deletes image `id` and frees its data.
    public static func delete(id: UInt32) -> String { "\u{1B}_Ga=d,d=I,i=\(id),q=2\u{1B}\\" }

    /// The query a terminal answers with `ESC _ G i=31 ; OK ESC \` when it implements the protocol.
    public static let query = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\"
}

/// tmux forwards a sequence to the outer terminal only inside its passthrough envelope (with
/// `allow-passthrough on`): `ESC P tmux ;`, the sequence with every ESC doubled, `ESC \`.
public func tmuxPassthrough(_ sequence: String) -> String {
    "\u{1B}Ptmux;" + sequence.replacingOccurrences(of: "\u{1B}", with: "\u{1B}\u{1B}") + "\u{1B}\\"
}

/// Sixel: the image quantised to a fixed palette (64 grays for a gray image, the 6×6×6 cube otherwise),
/// six pixel rows per band, runs of one sixel compressed with `!n`.
public enum Sixel {
    /// The DCS string for `rgb` (width × height).
    public static func encode(rgb: [UInt8], width: Int, height: Int) -> String {
        precondition(rgb.count >= width * height * 3)
        var gray = true
        for p in 0..<width * height where rgb[3 * p] != rgb[3 * p + 1] || rgb[3 * p + 1] != rgb[3 * p + 2] { gray = false; break }
        // Palette and each pixel's register.
        var palette: [(Int, Int, Int)] = []
        var index = [Int](repeating: 0, count: width * height)
        if gray {
            palette = (0..<64).map { let v = $0 * 255 / 63; return (v, v, v) }
            for p in 0..<width * height { index[p] = (Int(rgb[3 * p]) * 63 + 127) / 255 }
        } else {
            let steps = [0, 51, 102, 153, 204, 255]
            for r in 0..<6 { for g in 0..<6 { for b in 0..<6 { palette.append((steps[r], steps[g], steps[b])) } } }
            for p in 0..<width * height {
                let level = { (v: UInt8) in (Int(v) * 5 + 127) / 255 }
                index[p] = 36 * level(rgb[3 * p]) + 6 * level(rgb[3 * p + 1]) + level(rgb[3 * p + 2])
            }
        }
        var out = "\u{1B}P0;1;0q\"1;1;\(width);\(height)"
        for (i, c) in palette.enumerated() { out += "#\(i);2;\(c.0 * 100 / 255);\(c.1 * 100 / 255);\(c.2 * 100 / 255)" }
        for band in stride(from: 0, to: height, by: 6) {
            let rows = min(6, height - band)
            var used: [Int] = []
            var seen = Set<Int>()
            for y in band..<band + rows { for x in 0..<width where seen.insert(index[y * width + x]).inserted { used.append(index[y * width + x]) } }
            for (k, colour) in used.enumerated() {
                out += "#\(colour)"
                var run: (char: UInt8, count: Int)? = nil
                func flush() {
                    guard let r = run else { return }
                    let ch = String(UnicodeScalar(r.char))
                    out += r.count > 3 ? "!\(r.count)\(ch)" : String(repeating: ch, count: r.count)
                }
                for x in 0..<width {
                    var bits: UInt8 = 0
                    for dy in 0..<rows where index[(band + dy) * width + x] == colour { bits |= 1 << dy }
                    let ch = 63 + bits
                    if let r = run, r.char == ch { run = (ch, r.count + 1) } else { flush(); run = (ch, 1) }
                }
                flush()
                if k < used.count - 1 { out += "$" }
            }
            if band + 6 < height { out += "-" }  // not after the last band: the cursor stays on the image
        }
        return out + "\u{1B}\\"
    }
}
