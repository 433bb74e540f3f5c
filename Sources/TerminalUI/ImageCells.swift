/// An image drawn with terminal cells: two pixels per cell with the upper half block `▀` (foreground = top
/// pixel, background = bottom pixel) in the xterm-256 palette, or, without colour, one pixel per cell as a
/// character of a brightness ramp. The image is scaled (box filter) to fit the rect, keeping its aspect with
/// cells twice as tall as wide.
public enum ImageCells {
    public enum Mode: Sendable { case halfBlock256, grayRamp }

    /// Characters from dark to bright.
    public static let ramp: [Character] = [" ", ".", ":", "-", "=", "+", "*", "#", "%", "@"]

    /// Pixels are row-major with `channels` 1 (gray) or 3 (RGB) bytes each. Returns the rect actually used.
    @discardableResult
    public static func render(pixels: [UInt8], width: Int, height: Int, channels: Int, into canvas: Canvas, rect: Rect, mode: Mode) -> Rect {
        guard width > 0, height > 0, !rect.isEmpty, channels == 1 || channels == 3, pixels.count >= width * height * channels else { return Rect(x: rect.x, y: rect.y, width: 0, height: 0) }
        let rowsPerCell = mode == .halfBlock256 ? 2 : 1
        // Target size in pixels: a cell is about twice as tall as wide, so one cell row shows two pixel rows
        // in half-block mode and, in ramp mode, one pixel row for every two columns' worth of width.
        let aspect = Double(height) / Double(width)
        var cols = rect.width
        var pixelRows = Int((Double(cols) * aspect * (mode == .halfBlock256 ? 1 : 0.5)).rounded())
        if pixelRows > rect.height * rowsPerCell {
            pixelRows = rect.height * rowsPerCell
            cols = max(1, min(rect.width, Int((Double(pixelRows) / aspect / (mode == .halfBlock256 ? 1 : 0.5)).rounded())))
        }
        pixelRows = max(rowsPerCell, pixelRows - pixelRows % rowsPerCell)
        let scaled = scale(pixels, width: width, height: height, channels: channels, to: cols, pixelRows)
        let cellRows = pixelRows / rowsPerCell
        for cy in 0..<cellRows {
            for cx in 0..<cols {
                switch mode {
                case .halfBlock256:
                    let top = scaled[(2 * cy) * cols + cx], bottom = scaled[(2 * cy + 1) * cols + cx]
                    canvas[x: rect.x + cx, y: rect.y + cy] = Cell("▀", style: Style(fg: .index(xterm256(top)), bg: .index(xterm256(bottom))))
                case .grayRamp:
                    let v = luminance(scaled[cy * cols + cx])
                    canvas[x: rect.x + cx, y: rect.y + cy] = Cell(ramp[min(ramp.count - 1, Int(v) * ramp.count / 256)])
                }
            }
        }
        return Rect(x: rect.x, y: rect.y, width: cols, height: cellRows)
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
