import XCTest
import TerminalUI

final class GlyphsTests: XCTestCase {
    func testTruncateEndsInTheEllipsisGlyph() {
        XCTAssertEqual(Glyphs.unicode.truncate("abcdef", to: 4), "abc…")
        XCTAssertEqual(Glyphs.ascii.truncate("abcdef", to: 4), "abc~")
        XCTAssertEqual(Glyphs.unicode.truncate("abc", to: 3), "abc")
        XCTAssertEqual(Glyphs.unicode.truncate("abc", to: 1), "…")
        XCTAssertEqual(Glyphs.unicode.truncate("abc", to: 0), "")
    }

    func testASCIISetIsSevenBitAndHasNoBraille() {
        XCTAssertTrue(Glyphs.ascii.isASCII)
        XCTAssertFalse(Glyphs.ascii.usesBraille)
        XCTAssertTrue(Glyphs.ascii.progressPartials.isEmpty)
        XCTAssertFalse(Glyphs.unicode.isASCII)
        XCTAssertTrue(Glyphs.unicode.usesBraille)
    }

    func testUnicodeSetHasSevenPartialBlocks() {
        XCTAssertEqual(Glyphs.unicode.progressPartials, ["▏", "▎", "▍", "▌", "▋", "▊", "▉"])
    }
}
