/// An image drawn with terminal cells: two pixels per cell with the upper half block `▀` (foreground = top
/// pixel, background = bottom pixel) in the xterm-256 palette or in 24-bit colour, or, without colour, one
/// pixel per cell as a character of a brightness ramp; or placeholder / fallback cells plus a
/// `TerminalGraphic` for the kitty and sixel protocols. The image is scaled (box filter) to fit the rect, keeping its aspect with
/// cells twice as tall as wide.
public enum ImageCells {
    public enum Mode: Equatable, Sendable {
        /// Half blocks in the xterm-256 palette.
        case halfBlock256
        /// Half blocks in 24-bit colour (`TermColor.rgb`).
        case truecolor
        /// One character of a brightness ramp per cell, no colour.
        case grayRamp
        /// Kitty placeholder cells for image `id` (its number is the cells' foreground colour) plus the
        /// pixels as a `TerminalGraphic` to transmit.
        case kitty(id: UInt8)
        /// Half-block cells in the palette under a sixel `TerminalGraphic` drawn over them.
        case sixel

        /// Kitty ids 0–15 would go out as the themed ANSI colours (SGR 30–37 / 90–97), so ids start above them.
        public init(_ p: ImageProtocol, kittyID: UInt8 = 42) {
            switch p {
            case .kitty: self = .kitty(id: kittyID)
            case .sixel: self = .sixel
            case .truecolor: self = .truecolor
            case .palette256: self = .halfBlock256
            case .ramp: self = .grayRamp
            }
        }
    }

    /// Characters from dark to bright.
    public static let ramp: [Character] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]

    /// Pixels are row-major with `channels` 1 (gray) or 3 (RGB) bytes each. `key` names the picture for the
    /// graphics protocols (so an unchanged one is not sent again). Returns the rect actually used.
    @discardableResult
    public static func render(pixels: [UInt8], width: Int, height: Int, channels: Int, into canvas: Canvas, rect: Rect, mode: Mode, key: String = "") -> Rect {
        guard width > 0, height > 0, !rect.isEmpty, channels == 1 || channels == 3, pixels.count >= width * height * channels else { return Rect(x: rect.x, y: rect.y, width: 0, height: 0) }
        let ramp = mode == .grayRamp
        let rowsPerCell = ramp ? 1 : 2
        // Target size in pixels: a cell is about twice as tall as wide, so one cell row shows two pixel rows
        // in half-block mode and, in ramp mode, one pixel row for every two columns' worth of width.
        var area = rect
        if case .kitty = mode { area = Rect(x: rect.x, y: rect.y, width: min(rect.width, KittyGraphics.maxCells), height: min(rect.height, KittyGraphics.maxCells)) }
        let aspect = Double(height) / Double(width)
        var cols = area.width
        var pixelRows = Int((Double(cols) * aspect * (ramp ? 0.5 : 1)).rounded())
        if pixelRows > area.height * rowsPerCell {
            pixelRows = area.height * rowsPerCell
            cols = max(1, min(area.width, Int((Double(pixelRows) / aspect / (ramp ? 0.5 : 1)).rounded())))
        }
        pixelRows = max(rowsPerCell, pixelRows - pixelRows % rowsPerCell)
        let cellRows = pixelRows / rowsPerCell
        let used = Rect(x: rect.x, y: rect.y, width: cols, height: cellRows)
        if case .kitty(let id) = mode {
            for cy in 0..<cellRows {
                for cx in 0..<cols {
                    canvas[x: rect.x + cx, y: rect.y + cy] = Cell(KittyGraphics.placeholderCharacter(row: cy, column: cx), style: Style(fg: .index(id)))
                }
            }
            canvas.graphics.append(TerminalGraphic(kind: .kitty(id: UInt32(id)), key: key, rect: used, rgb: rgb(pixels, channels: channels), width: width, height: height))
            return used
        }
        let scaled = scale(pixels, width: width, height: height, channels: channels, to: cols, pixelRows)
        for cy in 0..<cellRows {
            for cx in 0..<cols {
                let cell: Cell
                switch mode {
                case .grayRamp:
                    let v = luminance(scaled[cy * cols + cx])
                    cell = Cell(self.ramp[min(self.ramp.count - 1, Int(v) * self.ramp.count / 256)])
                case .truecolor:
                    let top = scaled[(2 * cy) * cols + cx], bottom = scaled[(2 * cy + 1) * cols + cx]
                    cell = Cell("▀", style: Style(fg: .rgb(top.0, top.1, top.2), bg: .rgb(bottom.0, bottom.1, bottom.2)))
                default:
                    let top = scaled[(2 * cy) * cols + cx], bottom = scaled[(2 * cy + 1) * cols + cx]
                    cell = Cell("▀", style: Style(fg: .index(xterm256(top)), bg: .index(xterm256(bottom))))
                }
                canvas[x: rect.x + cx, y: rect.y + cy] = cell
            }
        }
        if mode == .sixel {
            canvas.graphics.append(TerminalGraphic(kind: .sixel, key: key, rect: used, rgb: rgb(pixels, channels: channels), width: width, height: height))
        }
        return used
    }

    /// The pixels as RGB triples (gray repeated).
    static func rgb(_ p: [UInt8], channels: Int) -> [UInt8] {
        guard channels == 1 else { return p }
        var out = [UInt8](repeating: 0, count: p.count * 3)
        for i in p.indices { out[3 * i] = p[i]; out[3 * i + 1] = p[i]; out[3 * i + 2] = p[i] }
        return out
    }

    /// The image scaled (box filter) to `w`×`h` pixels, as flat RGB bytes (what sixel encodes).
    public static func scaledRGB(_ g: TerminalGraphic, to w: Int, _ h: Int) -> [UInt8] {
        scale(g.rgb, width: g.width, height: g.height, channels: 3, to: w, h).flatMap { [$0.0, $0.1, $0.2] }
    }

    /// The box-filtered image at `w`×`h`, as RGB triples.
    public static func scale(_ p: [UInt8], width: Int, height: Int, channels: Int, to w: Int, _ h: Int) -> [(UInt8, UInt8, UInt8)] {
        var out: [(UInt8, UInt8, UInt8)] = []
        out.reserveCapacity(w * h)
        for ty in 0..<h {
            let y0 = ty * height / h, y1 = max(y0 + 1, (ty + 1) * height / h)
            for tx in 0..<w {
                let x0 = tx * width / w, x1 = max(x0 + 1, (tx + 1) * width / w)
                var r = 0, g = 0, b = 0, n = 0
                for y in y0..<y1 {
                    for x in x0..<x1 {
                        let i = (y * width + x) * channels
                        if channels == 1 { r += Int(p[i]); g += Int(p[i]); b += Int(p[i]) } else { r += Int(p[i]); g += Int(p[i + 1]); b += Int(p[i + 2]) }
                        n += 1
                    }
                }
                out.append((UInt8(r / n), UInt8(g / n), UInt8(b / n)))
            }
        }
        return out
    }

    public static func luminance(_ c: (UInt8, UInt8, UInt8)) -> UInt8 {
        let r = 299 * Int(c.0), g = 587 * Int(c.1), b = 114 * Int(c.2)
        return UInt8((r + g + b) / 1000)
    }

    /// The nearest xterm-256 colour: the 24-step gray ramp for grays, the 6×6×6 cube otherwise.
    public static func xterm256(_ c: (UInt8, UInt8, UInt8)) -> UInt8 {
        let (r, g, b) = (Int(c.0), Int(c.1), Int(c.2))
        if max(r, g, b) - min(r, g, b) < 12 {
            let v = (r + g + b) / 3
            if v < 4 { return 16 }
            if v > 246 { return 231 }
            return UInt8(232 + min(23, max(0, (v - 3) / 10)))
        }
        func level(_ v: Int) -> Int { v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40 }
        return UInt8(16 + 36 * level(r) + 6 * level(g) + level(b))
    }
}
