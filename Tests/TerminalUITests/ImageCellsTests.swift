import XCTest
import TerminalUI

final class ImageCellsTests: XCTestCase {
    /// A 4×4 gray image: the left half black, the right half white, the bottom two rows mid-gray.
    let pixels: [UInt8] = [0, 0, 255, 255,
                           0, 0, 255, 255,
                           128, 128, 128, 128,
                           128, 128, 128, 128]

    func testHalfBlocksPutTwoPixelRowsInACellWithTheirColours() {
        let c = Canvas(width: 4, height: 2)
        let used = ImageCells.render(pixels: pixels, width: 4, height: 4, channels: 1, into: c, rect: c.bounds, mode: .halfBlock256)
        XCTAssertEqual(used, Rect(x: 0, y: 0, width: 4, height: 2))
        XCTAssertEqual(c[x: 0, y: 0], Cell("▀", style: Style(fg: .index(16), bg: .index(16))), "black over black")
        XCTAssertEqual(c[x: 3, y: 0], Cell("▀", style: Style(fg: .index(231), bg: .index(231))), "white over white")
        XCTAssertEqual(c[x: 0, y: 1].style.fg, .index(244), "128 is gray-ramp step 12")
        XCTAssertEqual(c[x: 0, y: 1].style.bg, .index(244))
    }

    func testTheGrayRampUsesOneCharacterPerPixelFromDarkToBright() {
        let c = Canvas(width: 4, height: 2)
        ImageCells.render(pixels: pixels, width: 4, height: 4, channels: 1, into: c, rect: c.bounds, mode: .grayRamp)
        // Ramp rows are half as many as columns (cells are twice as tall): rows 0–1 and 2–3 average in pairs.
        XCTAssertEqual(c.line(0), "  @@")
        XCTAssertEqual(c.line(1), "++++")
    }

    func testColoursGoToTheCubeAndTheImageKeepsItsAspect() {
        XCTAssertEqual(ImageCells.xterm256((255, 0, 0)), 196)
        XCTAssertEqual(ImageCells.xterm256((0, 0, 255)), 21)
        let c = Canvas(width: 40, height: 5)
        let used = ImageCells.render(pixels: [UInt8](repeating: 200, count: 300 * 300), width: 300, height: 300, channels: 1, into: c,
                                     rect: c.bounds, mode: .halfBlock256)
        XCTAssertEqual(used.height, 5)
        XCTAssertEqual(used.width, 10, "a square image 10 pixel rows tall is 10 cells wide")
    }
}
