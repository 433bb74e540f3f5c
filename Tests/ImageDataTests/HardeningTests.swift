import XCTest
import Foundation
import ImageData

/// Issue 9 items 4 and 6: nothing left out silently, and no small input that allocates gigabytes.
final class DatasetHardeningTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-dataset-hardening-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    func png() throws -> Data { Data(try PNGCodec.encode(width: 4, height: 4, layout: .gray8, samples: [UInt8](repeating: 9, count: 16))) }

    /// A Latin-1 class folder name (not UTF-8) used to be dropped: the dataset started with two classes of three.
    func testAClassFolderWhoseNameIsNotUTF8IsRefusedNamingIt() throws {
        for cls in ["a", "b"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(cls), withIntermediateDirectories: true)
            try png().write(to: root.appendingPathComponent("\(cls)/1.png"))
        }
        let latin1: [UInt8] = Array("cl".utf8) + [0xE4] + Array("ss".utf8)
        let folder = root.path + "/" + String(decoding: latin1, as: UTF8.self)
        _ = folder
        let raw = Array(root.path.utf8) + [0x2F] + latin1 + [0]
        XCTAssertEqual(raw.withUnsafeBufferPointer { p in p.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) { mkdir($0, 0o755) } }, 0)
        XCTAssertThrowsError(try LabeledDataset.imageFolder(root: root.path)) {
            XCTAssertTrue("\($0)".contains(#"cl\xE4ss"#) && "\($0)".contains("UTF-8"), "\($0)")
        }
    }

    /// Duplicate manifest rows put one image into training and validation both: refused, naming both lines.
    func testDuplicateCSVRowsAreRefusedNamingTheLines() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let csv = root.appendingPathComponent("m.csv")
        try "path,label\nx/1.png,a\nx/2.png,b\n./x/1.png,a\n".write(to: csv, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LabeledDataset.csvManifest(path: csv.path)) {
            XCTAssertTrue("\($0)".contains("m.csv:4") && "\($0)".contains("line 2"), "\($0)")
        }
    }

    /// A 1×16384 PNG (a few hundred bytes) would be resized to 256×4194304 floats (12 GiB): refused naming the file.
    func testAnExtremeAspectRatioIsRefusedBeforeResizing() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let file = root.appendingPathComponent("thin.png")
        try Data(try PNGCodec.encode(width: 1, height: 16384, layout: .gray8, samples: [UInt8](repeating: 1, count: 16384))).write(to: file)
        XCTAssertThrowsError(try ImageBatch.load([file.path], resizeShorterSide: 256, crop: 224, mean: [0, 0, 0], std: [1, 1, 1])) {
            XCTAssertTrue("\($0)".contains(file.path) && "\($0)".contains("1×16384"), "\($0)")
        }
        // A merely tall image is fine.
        try Data(try PNGCodec.encode(width: 8, height: 64, layout: .gray8, samples: [UInt8](repeating: 1, count: 512))).write(to: file)
        XCTAssertNoThrow(try ImageBatch.load([file.path], resizeShorterSide: 32, crop: 32, mean: [0, 0, 0], std: [1, 1, 1]))
    }
}
