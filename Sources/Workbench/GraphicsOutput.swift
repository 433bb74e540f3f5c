import Foundation
import TerminalUI

/// What curses cannot draw, written straight to the terminal after each refresh: the exact colours of 24-bit
/// cells (curses drew their nearest palette colour), sixel images over their fallback cells, and kitty image
/// data for the placeholder cells curses drew. Only what changed since the last frame is sent; everything is
/// wrapped in save / restore cursor (DECSC / DECRC) so curses' idea of the cursor and attributes stays true.
final class GraphicsOutput {
    let images: ImageProtocol
    let insideTmux: Bool
    /// One cell in pixels, for scaling sixel images (10 × 20 when the terminal did not say).
    let cellPixels: (width: Int, height: Int)
    private let writeOut: (String) -> Void

    private var emittedRGB: [Int: Cell] = [:]
    private var emittedSixel: String?
    private var transmitted: [UInt32: String] = [:]

    init(images: ImageProtocol, insideTmux: Bool, cellPixels: (width: Int, height: Int)?, write: @escaping (String) -> Void = GraphicsOutput.writeToTerminal) {
        self.images = images
        self.insideTmux = insideTmux
        self.cellPixels = cellPixels ?? (10, 20)
        writeOut = write
    }

    static func writeToTerminal(_ s: String) {
        var bytes = Array(s.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if n <= 0 { if errno == EINTR || errno == EAGAIN { continue }; return }
            bytes = bytes.dropFirst(n)
        }
    }

    /// The next frame repaints everything: send every 24-bit cell and the sixel image again.
    func invalidate() {
        emittedRGB = [:]
        emittedSixel = nil
    }

    /// Frees the kitty images this session sent (on quit).
    func clearAll() {
        let out = transmitted.keys.sorted().map { wrap(KittyGraphics.delete(id: $0)) }.joined()
        transmitted = [:]
        if !out.isEmpty { writeOut(out) }
    }

    func after(draw canvas: Canvas, screenWidth: Int, screenHeight: Int) {
        let out = sequences(for: canvas, screenWidth: screenWidth, screenHeight: screenHeight)
        if !out.isEmpty { writeOut("\u{1B}7" + out + "\u{1B}8") }
    }

    /// The bytes for one frame (without the cursor save / restore around them).
    func sequences(for canvas: Canvas, screenWidth: Int, screenHeight: Int) -> String {
        var out = ""
        // 24-bit cells that are new or changed, a run of neighbours at a time.
        var current: [Int: Cell] = [:]
        let width = min(canvas.width, screenWidth), height = min(canvas.height, screenHeight)
        for y in 0..<height {
            var x = 0
            while x < width {
                let cell = canvas[x: x, y: y]
                guard Self.isRGB(cell) else { x += 1; continue }
                current[y * canvas.width + x] = cell
                guard emittedRGB[y * canvas.width + x] != cell, !(y == screenHeight - 1 && x == screenWidth - 1) else { x += 1; continue }
                out += "\u{1B}[\(y + 1);\(x + 1)H"
                while x < width, !(y == screenHeight - 1 && x == screenWidth - 1) {
                    let c = canvas[x: x, y: y]
                    guard Self.isRGB(c) else { break }
                    current[y * canvas.width + x] = c
                    out += Self.sgr(c.style) + String(c.char)
                    x += 1
                }
            }
        }
        emittedRGB = current
        if !current.isEmpty && !out.isEmpty { out += "\u{1B}[0m" }

        // Kitty: send each picture once under its id; free those no longer on screen.
        var onScreen = Set<UInt32>()
        for g in canvas.graphics {
            guard case .kitty(let id) = g.kind else { continue }
            onScreen.insert(id)
            guard transmitted[id] != g.key else { continue }
            if transmitted[id] != nil { out += wrap(KittyGraphics.delete(id: id)) }
            out += KittyGraphics.transmit(id: id, rgb: g.rgb, width: g.width, height: g.height, columns: g.rect.width, rows: g.rect.height).map(wrap).joined()
            transmitted[id] = g.key
        }
        for id in transmitted.keys.sorted() where !onScreen.contains(id) {
            out += wrap(KittyGraphics.delete(id: id))
            transmitted[id] = nil
        }

        // Sixel: drawn again whenever the picture or its place changed, or the screen was repainted.
        if let g = canvas.graphics.first(where: { $0.kind == .sixel }) {
            let signature = "\(g.key) \(g.rect)"
            if signature != emittedSixel {
                let (w, h) = sixelSize(g)
                out += "\u{1B}[\(g.rect.y + 1);\(g.rect.x + 1)H" + Sixel.encode(rgb: ImageCells.scaledRGB(g, to: w, h), width: w, height: h)
                emittedSixel = signature
            }
        } else {
            emittedSixel = nil
        }
        return out
    }

    /// The largest size in pixels with the image's aspect that fits its rect of cells.
    func sixelSize(_ g: TerminalGraphic) -> (Int, Int) {
        let maxW = g.rect.width * cellPixels.width, maxH = g.rect.height * cellPixels.height
        let scale = min(Double(maxW) / Double(g.width), Double(maxH) / Double(g.height))
        return (max(1, Int(Double(g.width) * scale)), max(1, Int(Double(g.height) * scale)))
    }

    private func wrap(_ s: String) -> String { insideTmux ? tmuxPassthrough(s) : s }

    static func isRGB(_ c: Cell) -> Bool {
        if case .rgb = c.style.fg { return true }
        if case .rgb = c.style.bg { return true }
        return false
    }

    static func sgr(_ s: Style) -> String {
        func part(_ c: TermColor, _ base: Int) -> String {
            switch c {
            case .standard: "\(base + 1)"  // 39 / 49: default
            case .index(let i): "\(base);5;\(i)"
            case .rgb(let r, let g, let b): "\(base);2;\(r);\(g);\(b)"
            }
        }
        return "\u{1B}[0;\(part(s.fg, 38));\(part(s.bg, 48))m"
    }
}
