import XCTest
import TerminalUI

/// The same 4×4 image as `ImageCellsTests` through the other modes: 24-bit half blocks, kitty placeholders
/// with the transmitted pixels, sixel fallback cells with the graphic, the sixel encoding, and the choice of
/// protocol from the terminal's answers and the environment.
final class TerminalGraphicsTests: XCTestCase {
    let pixels: [UInt8] = [0, 0, 255, 255,
                           0, 0, 255, 255,
                           128, 128, 128, 128,
                           128, 128, 128, 128]

    func testTruecolorHalfBlocksCarryTheExactColours() {
        let c = Canvas(width: 4, height: 2)
        ImageCells.render(pixels: pixels, width: 4, height: 4, channels: 1, into: c, rect: c.bounds, mode: .truecolor)
        XCTAssertEqual(c[x: 0, y: 0], Cell("▀", style: Style(fg: .rgb(0, 0, 0), bg: .rgb(0, 0, 0))))
        XCTAssertEqual(c[x: 3, y: 0], Cell("▀", style: Style(fg: .rgb(255, 255, 255), bg: .rgb(255, 255, 255))))
        XCTAssertEqual(c[x: 1, y: 1], Cell("▀", style: Style(fg: .rgb(128, 128, 128), bg: .rgb(128, 128, 128))))
        XCTAssertEqual(TermColor.rgb(128, 128, 128).paletteIndex, 244, "the palette stand-in is the 256-colour mode's colour")
        XCTAssertTrue(c.graphics.isEmpty)
    }

    func testKittyPlaceholdersNumberRowsAndColumnsAndCarryTheImageID() {
        let c = Canvas(width: 4, height: 2)
        let used = ImageCells.render(pixels: pixels, width: 4, height: 4, channels: 1, into: c, rect: c.bounds, mode: .kitty(id: 7), key: "a.png")
        XCTAssertEqual(used, Rect(x: 0, y: 0, width: 4, height: 2))
        for y in 0..<2 {
            for x in 0..<4 {
                let cell = c[x: x, y: y]
                XCTAssertEqual(cell.char.unicodeScalars.map(\.value), [0x10EEEE, KittyGraphics.diacritics[y], KittyGraphics.diacritics[x]])
                XCTAssertEqual(cell.style.fg, .index(7), "the image id is the foreground colour")
            }
        }
        XCTAssertEqual(c.graphics.count, 1)
        let g = c.graphics[0]
        XCTAssertEqual(g.kind, .kitty(id: 7))
        XCTAssertEqual(g.rect, used)
        XCTAssertEqual(Array(g.rgb[6..<9]), [255, 255, 255], "gray becomes RGB")
        XCTAssertEqual(g.rgb.count, 48)
    }

    func testKittyTransmissionChunksAtFourKilobytesAndUsesAVirtualPlacement() {
        let rgb = [UInt8](repeating: 9, count: 60 * 60 * 3)  // 10,800 bytes → 14,400 base64 characters → 4 chunks
        let chunks = KittyGraphics.transmit(id: 3, rgb: rgb, width: 60, height: 60, columns: 20, rows: 10)
        XCTAssertEqual(chunks.count, 4)
        XCTAssertTrue(chunks[0].hasPrefix("\u{1B}_Ga=T,U=1,f=24,t=d,q=2,i=3,s=60,v=60,c=20,r=10,m=1;"), chunks[0].prefix(60).debugDescription)
        XCTAssertTrue(chunks[1].hasPrefix("\u{1B}_Gm=1;"))
        XCTAssertTrue(chunks[3].hasPrefix("\u{1B}_Gm=0;"))
        let payload = chunks.map { String($0.split(separator: ";", maxSplits: 1)[1].dropLast(2)) }.joined()
        XCTAssertEqual(Data(base64Encoded: payload), Data(rgb))
        XCTAssertTrue(chunks.dropLast().allSatisfy { $0.split(separator: ";", maxSplits: 1)[1].count - 2 == 4096 })
        XCTAssertEqual(tmuxPassthrough("\u{1B}_Ga=d\u{1B}\\"), "\u{1B}Ptmux;\u{1B}\u{1B}_Ga=d\u{1B}\u{1B}\\\u{1B}\\")
    }

    func testSixelKeepsPaletteCellsUnderTheGraphicAndEncodesBandsOfSix() {
        let c = Canvas(width: 4, height: 2)
        ImageCells.render(pixels: pixels, width: 4, height: 4, channels: 1, into: c, rect: c.bounds, mode: .sixel, key: "a.png")
        XCTAssertEqual(c[x: 0, y: 1], Cell("▀", style: Style(fg: .index(244), bg: .index(244))), "the fallback under the image")
        XCTAssertEqual(c.graphics.map(\.kind), [.sixel])
        // 2 × 7 image: black top row, white below. Gray palette: register 0 = black, 63 = white.
        var rgb = [UInt8](repeating: 255, count: 2 * 7 * 3)
        for i in 0..<6 { rgb[i] = 0 }
        let s = Sixel.encode(rgb: rgb, width: 2, height: 7)
        XCTAssertTrue(s.hasPrefix("\u{1B}P0;1;0q\"1;1;2;7#0;2;0;0;0#1;2;1;1;1"), String(s.prefix(40)).debugDescription)
        XCTAssertTrue(s.contains("#63;2;100;100;100"))
        // Band 1 (rows 0–5): black has bit 0 only (@ = 63 + 1), white bits 1–5 (63 + 62 = }); band 2 (row 6): white bit 0.
        XCTAssertTrue(s.hasSuffix("#0@@$#63}}-#63@@\u{1B}\\"), String(s.suffix(30)).debugDescription)
        let runs = Sixel.encode(rgb: [UInt8](repeating: 0, count: 10 * 6 * 3), width: 10, height: 6)
        XCTAssertTrue(runs.hasSuffix("#0!10~\u{1B}\\"), "a run of ten full sixels: \(runs.suffix(12).debugDescription)")
    }

    func testTheProtocolIsTheFlagOrTheBestTheTerminalAnswered() {
        let none = ImageProtocol.Facts()
        func choose(_ f: ImageProtocol.Facts, _ env: [String: String] = [:], colors: Bool = true, requested: ImageProtocol? = nil) -> ImageProtocol {
            ImageProtocol.choose(requested: requested, colors: colors, colors256: true, facts: f, environment: env)
        }
        XCTAssertEqual(choose(.init(kittyReplied: true, deviceAttributes: [62, 4])), .kitty)
        XCTAssertEqual(choose(.init(deviceAttributes: [62, 4, 22])), .sixel)
        XCTAssertEqual(choose(none, ["COLORTERM": "truecolor"]), .truecolor)
        XCTAssertEqual(choose(none), .palette256)
        XCTAssertEqual(choose(.init(kittyReplied: true), colors: false), .ramp, "NO_COLOR leaves the ramp")
        XCTAssertEqual(choose(none, requested: .sixel), .sixel, "the flag wins")
        XCTAssertEqual(choose(.init(insideTmux: true, tmuxPassthrough: true, outerTerminal: "xterm-kitty")), .kitty, "kitty behind tmux with passthrough")
        XCTAssertEqual(choose(.init(insideTmux: true, tmuxPassthrough: true, outerTerminal: "xterm-256color"), ["KITTY_WINDOW_ID": "1"]), .palette256, "a stale KITTY_WINDOW_ID in tmux's environment")
        XCTAssertEqual(choose(.init(insideTmux: true, tmuxPassthrough: false), ["KITTY_WINDOW_ID": "1", "COLORTERM": "truecolor"]), .truecolor)
        XCTAssertEqual(ImageProtocol.parse("auto"), .some(nil))
        XCTAssertEqual(ImageProtocol.parse("256"), .some(.palette256))
        XCTAssertNil(ImageProtocol.parse("jpeg") as ImageProtocol??)
    }
}
