import CNCursesW
import Foundation
import TerminalUI

/// The real terminal, through ncursesw. Only the UI thread touches it (ncurses is not thread-safe): it copies
/// a `Canvas` to the screen and reads keys. ncurses itself works out the minimal update between frames.
final class Terminal {
    /// Colours are off under NO_COLOR (series then differ by marker) or on a terminal without colours.
    let colors: Bool
    /// Unicode glyphs when the locale is UTF-8, ASCII otherwise.
    let glyphs: Glyphs
    private var pairs: [ColorKey: Int16] = [:]
    private(set) var has256 = false
    private(set) var isOpen = false
    /// How images reach the screen, and what sends them (set once the protocol is chosen).
    var graphics: GraphicsOutput?

    private struct ColorKey: Hashable { let fg: TermColor, bg: TermColor }

    /// Why the workbench cannot open here, or nil: it needs a terminal on stdin and stdout and a TERM that
    /// can address the cursor.
    static func unusableReason(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if isatty(STDIN_FILENO) == 0 || isatty(STDOUT_FILENO) == 0 { return "stdin and stdout are not a terminal" }
        let term = environment["TERM"] ?? ""
        if term.isEmpty || term == "dumb" { return "TERM is \(term.isEmpty ? "not set" : "dumb")" }
        return nil
    }

    init(noColor: Bool) {
        setlocale(LC_ALL, "")
        let codeset = String(cString: nl_langinfo(nl_item(CODESET)))
        glyphs = codeset.uppercased().replacingOccurrences(of: "-", with: "") == "UTF8" ? .unicode : .ascii
        // ESC on its own must reach us at once, not after ncurses' default one-second wait for a sequence.
        setenv("ESCDELAY", "25", 0)
        _ = initscr()
        isOpen = true
        set_escdelay(25)
        cbreak()
        noecho()
        nonl()
        keypad(stdscr, true)
        curs_set(0)
        var useColor = !noColor && has_colors()
        if useColor {
            start_color()
            use_default_colors()
            has256 = COLORS >= 256
            useColor = COLOR_PAIRS > 16
        }
        colors = useColor
        Terminal.installCrashRestore()
    }

    /// Restores the terminal; safe to call twice.
    func close() {
        guard isOpen else { return }
        isOpen = false
        graphics?.clearAll()
        endwin()
    }

    var size: (width: Int, height: Int) { (Int(tlab_getmaxx(stdscr)), Int(tlab_getmaxy(stdscr))) }

    /// Copies `canvas` to the screen (runs of cells with one style at a time) and refreshes.
    func draw(_ canvas: Canvas) {
        let (w, h) = size
        for y in 0..<min(h, canvas.height) {
            var x = 0
            let rowWidth = min(w, canvas.width)
            while x < rowWidth {
                let style = canvas[x: x, y: y].style
                var run: [wchar_t] = []
                var end = x
                while end < rowWidth, canvas[x: end, y: y].style == style {
                    // Every scalar: a kitty placeholder carries its row and column as combining marks.
                    for scalar in canvas[x: end, y: y].char.unicodeScalars { run.append(wchar_t(bitPattern: scalar.value)) }
                    end += 1
                }
                // The bottom-right cell: writing it scrolls some terminals, so leave it.
                if y == h - 1 && end == w { run.removeLast() }
                if !run.isEmpty {
                    let attributes = tlab_attributes(style.bold ? 1 : 0, style.dim ? 1 : 0, style.reverse ? 1 : 0, style.underline ? 1 : 0)
                    _ = tlab_put(Int32(y), Int32(x), run, Int32(run.count), attributes, pair(style))
                }
                x = end
            }
        }
        wrefresh(stdscr)
        // What curses cannot say itself goes out after it: 24-bit cells, sixel and kitty images.
        graphics?.after(draw: canvas, screenWidth: w, screenHeight: h)
    }

    /// Forces a full repaint on the next draw (after a resize or a suspend).
    func invalidate() {
        clearok(stdscr, true)
        graphics?.invalidate()
    }

    /// The next key, waiting at most `timeoutMilliseconds` (nil: none came).
    func readKey(timeoutMilliseconds: Int32) -> Key? {
        wtimeout(stdscr, timeoutMilliseconds)
        var ch: wint_t = 0
        let r = wget_wch(stdscr, &ch)
        if r == ERR { return nil }
        if r == KEY_CODE_YES { return Self.functionKey(Int32(ch)) }
        return Self.characterKey(UInt32(ch))
    }

    static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_BTAB: return .backTab
        case KEY_RESIZE: return .resize
        default:
            let f = code - tlab_key_f0()
            return (1...12).contains(f) ? .function(Int(f)) : nil
        }
    }

    static func characterKey(_ c: UInt32) -> Key? {
        switch c {
        case 27: return .escape
        case 9: return .tab
        case 10, 13: return .enter
        case 8, 127: return .backspace
        case 1...26: return .ctrl(Character(Unicode.Scalar(c + 96)!))
        default: return Unicode.Scalar(c).map { .char(Character($0)) }
        }
    }

    private func pair(_ style: Style) -> Int16 {
        guard colors, style.fg != .standard || style.bg != .standard else { return 0 }
        let key = ColorKey(fg: style.fg, bg: style.bg)
        if let p = pairs[key] { return p }
        let n = Int16(pairs.count + 1)
        guard Int32(n) < COLOR_PAIRS else { return 0 }
        init_pair(n, color(style.fg), color(style.bg))
        pairs[key] = n
        return n
    }

    private func color(_ c: TermColor) -> Int16 {
        switch c {
        case .standard: return -1
        case .index(let i): return has256 ? Int16(i) : Int16(Self.nearestBasic(i))
        case .rgb: let i = c.paletteIndex ?? 0; return has256 ? Int16(i) : Int16(Self.nearestBasic(i))
        }
    }

    /// The nearest of the 8 basic colours to an xterm-256 index (for 8/16-colour terminals).
    static func nearestBasic(_ i: UInt8) -> UInt8 {
        if i < 16 { return i % 8 }
        let rgb: (Int, Int, Int)
        if i >= 232 { let v = Int(i - 232) * 10 + 8; rgb = (v, v, v) }
        else {
            let n = Int(i) - 16, steps = [0, 95, 135, 175, 215, 255]
            rgb = (steps[n / 36], steps[n / 6 % 6], steps[n % 6])
        }
        let bit = { (v: Int) in v > 127 ? 1 : 0 }
        return UInt8(bit(rgb.0) | bit(rgb.1) << 1 | bit(rgb.2) << 2)
    }

    /// On a crash (a trap, an abort, a segfault) put the terminal back before dying, so the shell is usable.
    private static func installCrashRestore() {
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            signal(sig) { s in
                endwin()
                signal(s, SIG_DFL)
                raise(s)
            }
        }
    }
}
