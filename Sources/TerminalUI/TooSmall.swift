import Foundation

/// Replaces the whole screen with a btop-style notice when the terminal is smaller than a layout needs:
/// "terminal too small: 60×20" over "need 80×24", centred, the current size in red.
///
/// Each line falls back to shorter wordings when the canvas is narrow (down to a lone "!"); on a single row
/// only the first line is shown, and whatever still does not fit is clipped, so any size down to 0×0 is safe.
public func renderTooSmall(into canvas: Canvas, need: (width: Int, height: Int), glyphs: Glyphs = .unicode) {
    canvas.clear()
    guard canvas.width > 0, canvas.height > 0 else { return }
    let have = "\(canvas.width)\(glyphs.times)\(canvas.height)"
    let needed = "\(need.width)\(glyphs.times)\(need.height)"
    let first = pickFitting(["terminal too small: \(have)", "too small: \(have)", have, "!"], width: canvas.width)
    let second = pickFitting(["need \(needed)", needed], width: canvas.width)
    let lines = canvas.height >= 2 ? [first, second] : [first]
    let top = (canvas.height - lines.count) / 2
    for (row, line) in lines.enumerated() {
        let x = max(0, (canvas.width - line.count) / 2)
        canvas.put(line, x: x, y: top + row, style: row == 0 ? .bold : .plain)
    }
    // The current size is the part the user must change: colour it wherever it is shown in full.
    if let range = lines[0].range(of: have) {
        let offset = lines[0].distance(from: lines[0].startIndex, to: range.lowerBound)
        let x = max(0, (canvas.width - lines[0].count) / 2) + offset
        canvas.put(have, x: x, y: top, style: Style(fg: .index(1), bold: true))
    }
}

/// The first candidate that fits in `width`, else the last one (to be clipped).
private func pickFitting(_ candidates: [String], width: Int) -> String {
    candidates.first { $0.count <= width } ?? candidates.last ?? ""
}
