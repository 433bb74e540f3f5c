import Foundation
import TerminalUI

/// What the terminal says about itself, asked before curses starts (afterwards its answers would arrive as
/// keystrokes): the kitty graphics query, the cell size in pixels (XTWINOPS 16) and the primary device
/// attributes (DA1), sent in that order. Every terminal answers DA1, so its reply ends the wait; one that
/// answers nothing costs the timeout once.
struct TerminalProbe {
    var facts = ImageProtocol.Facts()
    /// One cell in pixels (for scaling sixel images), when the terminal or the kernel said.
    var cellPixels: (width: Int, height: Int)?

    static func run(environment: [String: String], timeoutMilliseconds: Int = 400) -> TerminalProbe {
        var probe = TerminalProbe()
        probe.facts.insideTmux = environment["TMUX"] != nil
        if probe.facts.insideTmux {
            probe.facts.tmuxPassthrough = tmux(["show", "-Apv", "allow-passthrough"]) == "on"
            probe.facts.outerTerminal = tmux(["display", "-p", "#{client_termname}"])
        }
        probe.cellPixels = kernelCellPixels()
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return probe }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in cc[Int(VMIN)] = 0; cc[Int(VTIME)] = 0 }
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        // Inside tmux the kitty query must go to the outer terminal (its answer may not come back; then the
        // environment decides, `ImageProtocol.kittyCapable`).
        let kitty = probe.facts.insideTmux ? (probe.facts.tmuxPassthrough ? tmuxPassthrough(KittyGraphics.query) : "") : KittyGraphics.query
        let query = kitty + "\u{1B}[16t" + "\u{1B}[c"
        _ = query.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
        let reply = readReplies(timeoutMilliseconds: timeoutMilliseconds)
        probe.parse(reply)
        return probe
    }

    /// Reads until the DA1 reply (`ESC [ ? … c`) has arrived or the time is up.
    static func readReplies(timeoutMilliseconds: Int) -> [UInt8] {
        var out: [UInt8] = []
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeoutMilliseconds) * 1_000_000
        var buffer = [UInt8](repeating: 0, count: 512)
        while DispatchTime.now().uptimeNanoseconds < deadline {
            var fds = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
            let left = Int32((deadline - min(deadline, DispatchTime.now().uptimeNanoseconds)) / 1_000_000)
            guard poll(&fds, 1, max(1, left)) > 0 else { continue }
            let n = read(STDIN_FILENO, &buffer, buffer.count)
            if n <= 0 { break }
            out += buffer[0..<n]
            if containsDeviceAttributes(out) { break }
        }
        return out
    }

    static func containsDeviceAttributes(_ bytes: [UInt8]) -> Bool { deviceAttributes(in: bytes) != nil }

    /// The numbers of `ESC [ ? n ; n … c`, if the bytes hold one.
    static func deviceAttributes(in bytes: [UInt8]) -> [Int]? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let start = text.range(of: "\u{1B}[?") else { return nil }
        let rest = text[start.upperBound...]
        guard let end = rest.firstIndex(of: "c") else { return nil }
        let body = rest[..<end]
        guard body.allSatisfy({ $0.isNumber || $0 == ";" }) else { return nil }
        return body.split(separator: ";").compactMap { Int($0) }
    }

    /// Reads what came back: the kitty OK, the cell size, the device attributes.
    mutating func parse(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.contains("\u{1B}_Gi=31;OK") { facts.kittyReplied = true }
        if let da = Self.deviceAttributes(in: bytes) { facts.deviceAttributes = da }
        // ESC [ 6 ; height ; width t
        if let r = text.range(of: "\u{1B}[6;") {
            let fields = text[r.upperBound...].prefix { $0 != "t" }.split(separator: ";").compactMap { Int($0) }
            if fields.count == 2, fields[0] > 0, fields[1] > 0 { cellPixels = (fields[1], fields[0]) }
        }
    }

    /// ws_xpixel / ws_ypixel divided by the cell counts, when the terminal fills them in.
    static func kernelCellPixels() -> (width: Int, height: Int)? {
        var ws = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0, ws.ws_xpixel > 0, ws.ws_ypixel > 0 else { return nil }
        return (Int(ws.ws_xpixel) / Int(ws.ws_col), Int(ws.ws_ypixel) / Int(ws.ws_row))
    }

    /// What a tmux command prints, trimmed (nil when it fails): the pane's `allow-passthrough` (which tmux
    /// needs on to forward `ESC P tmux;` envelopes) and the outer terminal's name.
    static func tmux(_ arguments: [String]) -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["tmux"] + arguments
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
