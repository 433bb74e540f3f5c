import XCTest
import Foundation
import ImageData
import Kernels

/// Batches served from the in-memory crop cache are bit-identical to batches decoded from disk, for every
/// augmentation a cache serves (none, flips, flips with rotation and colour) and for gray and RGB files.
final class ResizedImageCacheTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-resized-cache-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    /// Three gray and three RGB 37×29 PNGs whose pixels all differ, so a wrong index or flip shows.
    func files() throws -> [String] {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        var paths: [String] = []
        for i in 0..<6 {
            let gray = i < 3, n = 37 * 29 * (gray ? 1 : 3)
            let samples = (0..<n).map { UInt8(($0 * 13 + $0 / 37 * 5 + i * 31) % 256) }
            let url = root.appendingPathComponent("\(i).png")
            try Data(try PNGCodec.encode(width: 37, height: 29, layout: gray ? .gray8 : .rgb8, samples: samples)).write(to: url)
            paths.append(url.path)
        }
        return paths
    }

    func load(_ paths: [String], _ a: Augmentation?, cache: ResizedImageCache?) throws -> [Float] {
        let seeds: [UInt64]? = a == nil ? nil : (0..<paths.count).map { UInt64($0 * 7 + 1) }
        let t = try ImageBatch.load(paths, resizeShorterSide: 24, crop: 24, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225],
                                    augmentation: a, seeds: seeds, cache: cache)
        return Array(UnsafeBufferPointer(start: t.data, count: t.count))
    }

    func testCachedBatchesEqualDecodedOnesBitForBit() throws {
        let paths = try files()
        let augmentations: [Augmentation?] = [nil, Augmentation(horizontalFlip: true, verticalFlip: true), Augmentation(horizontalFlip: true),
                                              Augmentation(verticalFlip: true, rotationDegrees: 20, brightness: 0.3, contrast: 0.3)]
        for a in augmentations {
            let cache = ResizedImageCache(resize: 24, crop: 24)
            let decoded = try load(paths, a, cache: nil)
            XCTAssertEqual(try load(paths, a, cache: cache), decoded, "first pass (filling), \(String(describing: a))")
            XCTAssertEqual(cache.count, paths.count)
            XCTAssertEqual(try load(paths, a, cache: cache), decoded, "second pass (from memory), \(String(describing: a))")
        }
    }

    func testGrayImagesKeepOnePlaneAndTheLimitIsKept() throws {
        let paths = try files()
        let cache = ResizedImageCache(resize: 24, crop: 24)
        _ = try load(paths, nil, cache: cache)
        XCTAssertEqual(cache.bytes, (3 * 1 + 3 * 3) * 24 * 24 * 4)
        // Room for two gray crops only: the rest are decoded every time, and the batch is still the same.
        let small = ResizedImageCache(resize: 24, crop: 24, limitBytes: 2 * 24 * 24 * 4)
        let flips = Augmentation(horizontalFlip: true, verticalFlip: true)
        let decoded = try load(paths, flips, cache: nil)
        XCTAssertEqual(try load(paths, flips, cache: small), decoded)
        XCTAssertLessThanOrEqual(small.bytes, 2 * 24 * 24 * 4)
        XCTAssertEqual(try load(paths, flips, cache: small), decoded)
    }

    /// A random resized crop starts from the decoded file, so the cache is bypassed (and stays empty).
    func testRandomResizedCropsBypassTheCache() throws {
        let paths = try files()
        let cache = ResizedImageCache(resize: 24, crop: 24)
        let a = Augmentation(cropScale: 0.5...1, horizontalFlip: true)
        XCTAssertEqual(try load(paths, a, cache: cache), try load(paths, a, cache: nil))
        XCTAssertEqual(cache.count, 0)
    }

    /// A file rewritten after it was cached is read again: a corrupt replacement is an error naming it, and a
    /// changed image gives its new pixels.
    func testAFileChangedAfterCachingIsReadAgain() throws {
        let paths = try files()
        let cache = ResizedImageCache(resize: 24, crop: 24)
        _ = try load(paths, nil, cache: cache)
        let samples = (0..<(37 * 29)).map { UInt8($0 % 7 * 30) }
        try Data(try PNGCodec.encode(width: 37, height: 29, layout: .gray8, samples: samples)).write(to: URL(fileURLWithPath: paths[0]))
        XCTAssertEqual(try load(paths, nil, cache: cache), try load(paths, nil, cache: nil))
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: paths[1]))
        XCTAssertThrowsError(try load(paths, nil, cache: cache)) { XCTAssertTrue("\($0)".contains(paths[1]), "\($0)") }
    }

    /// A corrupt file is still an error naming it, through the cache as without it.
    func testACorruptFileIsAnErrorNamingIt() throws {
        var paths = try files()
        let bad = root.appendingPathComponent("bad.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: bad)
        paths.append(bad.path)
        XCTAssertThrowsError(try load(paths, nil, cache: ResizedImageCache(resize: 24, crop: 24))) {
            XCTAssertTrue("\($0)".contains(bad.path), "\($0)")
        }
    }
}
