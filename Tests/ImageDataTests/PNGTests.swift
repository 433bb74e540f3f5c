import XCTest
import ImageData

final class PNGTests: XCTestCase {
    let w = 5, h = 3

    func testEveryLayoutDecodes() throws {
        let gray = (0..<15).map { UInt8($0 * 17) }
        XCTAssertEqual(try decode(.gray8, gray), Image(width: w, height: h, channels: 1, pixels: gray))

        let wide: [UInt16] = (0..<15).map { UInt16($0) * 4369 }  // 0…61166, multiples of 257·17
        let wideBytes = wide.withUnsafeBytes { Array($0) }
        XCTAssertEqual(try decode(.gray16, wideBytes).pixels, gray, "16-bit scales linearly to 8-bit")

        let opaque: [UInt8] = gray.flatMap { [$0, UInt8(255)] }
        XCTAssertEqual(try decode(.grayAlpha8, opaque).pixels, gray, "opaque gray+alpha keeps its gray values")
        let transparent: [UInt8] = gray.flatMap { [$0, UInt8(0)] }
        XCTAssertEqual(try decode(.grayAlpha8, transparent).pixels, [UInt8](repeating: 0, count: 15), "alpha composites onto black")

        let rgb = (0..<45).map { UInt8(($0 * 37) % 256) }
        let decodedRGB = try decode(.rgb8, rgb)
        XCTAssertEqual(decodedRGB.channels, 3); XCTAssertEqual(decodedRGB.pixels, rgb)
        let rgba: [UInt8] = stride(from: 0, to: 45, by: 3).flatMap { [rgb[$0], rgb[$0 + 1], rgb[$0 + 2], UInt8(255)] }
        XCTAssertEqual(try decode(.rgba8, rgba).pixels, rgb)

        let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        let indices = (0..<15).map { UInt8($0 % 4) }
        let decodedPalette = try decode(.palette8, indices, palette: palette)
        XCTAssertEqual(decodedPalette.channels, 3)
        XCTAssertEqual(Array(decodedPalette.pixels.prefix(12)), palette)
    }

    func decode(_ layout: PNGCodec.Layout, _ samples: [UInt8], palette: [UInt8] = []) throws -> Image {
        try PNGCodec.decode(try PNGCodec.encode(width: w, height: h, layout: layout, samples: samples, palette: palette), name: "t.png")
    }

    func testBadFilesGetClearErrorsNamingTheFile() throws {
        let png = try PNGCodec.encode(width: 64, height: 64, layout: .gray8, samples: (0..<4096).map { UInt8($0 % 251) })
        XCTAssertThrowsError(try PNGCodec.decode(Array(png.prefix(png.count / 2)), name: "cut.png")) { e in
            XCTAssertTrue("\(e)".hasPrefix("cut.png: "), "\(e)"); XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
        XCTAssertThrowsError(try PNGCodec.decode(Array("hello, not an image".utf8), name: "text.png")) { e in
            XCTAssertEqual("\(e)", "text.png: not a PNG file (bad signature)")
        }
        var flipped = png; flipped[40] ^= 0xFF  // inside the compressed data
        XCTAssertThrowsError(try PNGCodec.decode(flipped, name: "flip.png")) { e in XCTAssertTrue("\(e)".hasPrefix("flip.png: ")) }
        XCTAssertThrowsError(try PNGCodec.decode(file: "/nonexistent/x.png")) { e in XCTAssertEqual("\(e)", "/nonexistent/x.png: no such file") }
    }

    func testDecompressionBombIsRefusedBeforeDecoding() throws {
        var png = try PNGCodec.encode(width: 4, height: 4, layout: .gray8, samples: [UInt8](repeating: 0, count: 16))
        // IHDR data sits at bytes 16..<29 (width, height big-endian); rewrite both to 100 000 and fix the CRC.
        for (offset, value) in [(16, UInt32(100_000)), (20, UInt32(100_000))] {
            for i in 0..<4 { png[offset + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32(i))) }
        }
        let crc = crc32(Array(png[12..<29]))
        for i in 0..<4 { png[29 + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * UInt32(i))) }
        XCTAssertThrowsError(try PNGCodec.decode(png, name: "bomb.png")) { e in
            XCTAssertTrue("\(e)".contains("100000×100000"), "\(e)")
        }
    }

    func testRealELPVImageDecodes() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.cache/elpv/elpv_dataset/data/images/cell0001.png").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "run `make setup` to fetch ELPV")
        let img = try PNGCodec.decode(file: path)
        XCTAssertEqual([img.width, img.height, img.channels], [300, 300, 1])
        XCTAssertGreaterThan(Set(img.pixels).count, 50, "a real electroluminescence image has many gray levels")
    }

    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c >> 1) ^ (c & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~c
    }
}
