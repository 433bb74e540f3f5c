import XCTest
import TerminalUI

final class PaletteTests: XCTestCase {
    func testFNV1aMatchesTheReferenceValues() {
        XCTAssertEqual(Palette.fnv1a(""), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(Palette.fnv1a("a"), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(Palette.fnv1a("foobar"), 0x85944171f73967e8)
    }

    func testOkabeItoColoursMapToXterm256() {
        XCTAssertEqual(Palette.runColors, [.index(178), .index(74), .index(35), .index(221), .index(25), .index(166),
                                           .index(175)])
    }

    func testRunColourIsStableAndFromThePalette() {
        let color = Palette.runColor(for: "20260124-0931-fe-elpv")
        XCTAssertEqual(color, Palette.runColor(for: "20260124-0931-fe-elpv"))
        XCTAssertTrue(Palette.runColors.contains(color))
        // Pinned: "a" hashes to 0xaf63dc4c8601ec8c, which is 5 modulo 7.
        XCTAssertEqual(Palette.runColor(for: "a"), Palette.vermillion)
    }

    func testDifferentRunsSpreadOverThePalette() {
        let colors = Set((0..<50).map { Palette.runColor(for: "run-\($0)") })
        XCTAssertGreaterThanOrEqual(colors.count, 5)
    }

    func testRunMarkers() {
        XCTAssertEqual(Palette.runMarkers, ["•", "+", "x", "o", "*", "#"])
        XCTAssertTrue(Palette.runMarkers.contains(Palette.runMarker(for: "abc")))
        XCTAssertEqual(Palette.runMarker(for: "abc"), Palette.runMarker(for: "abc"))
    }

    func testASCIIMarkersAreASCII() {
        XCTAssertTrue(Palette.asciiRunMarkers.allSatisfy(\.isASCII))
        for id in (0..<30).map({ "run-\($0)" }) {
            XCTAssertTrue(Palette.runMarker(for: id, glyphs: .ascii).isASCII)
        }
    }
}
