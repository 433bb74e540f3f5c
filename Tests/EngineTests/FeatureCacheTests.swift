import XCTest
import Backbones
import Engine
import ImageData
import Kernels

final class FeatureCacheTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-cache-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    func makeImages(_ n: Int) throws -> [String] {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return try (0..<n).map { i in
            let url = root.appendingPathComponent("img\(i).png")
            let px = (0..<(40 * 48)).map { UInt8(($0 * (i + 3) + i * 17) % 256) }
            try Data(try PNGCodec.encode(width: 48, height: 40, layout: .gray8, samples: px)).write(to: url)
            return url.path
        }
    }

    func testFeaturesAreCachedAndInvalidatedByContent() throws {
        let paths = try makeImages(5)
        let net = Backbones.make("mobilenet_v2")!
        SyntheticWeights.apply(to: net)
        let pre = FeatureExtraction.describe(resize: 32, crop: 32, mean: net.spec.preprocessing.mean, std: net.spec.preprocessing.std)
        let cache = FeatureCache(directory: root.appendingPathComponent("cache").path)
        var key = FeatureCache.Key(weights: "w1", backbone: "mobilenet_v2", boundary: "final", preprocessing: pre,
                                   images: try contentHashes(paths))
        XCTAssertNil(cache.load(key), "empty cache misses")
        let features = try FeatureExtraction.features(of: paths, backbone: net, resize: 32, crop: 32, batchSize: 2)
        XCTAssertEqual(features.shape, [5, 1280])
        try cache.store(features, for: key)
        XCTAssertEqual(cache.load(key)?.toArray(), features.toArray(), "a hit returns exactly what was stored")

        // Each part of the key invalidates: weights, boundary, preprocessing, image content.
        for change in [{ (k: inout FeatureCache.Key) in k.weights = "w2" }, { $0.boundary = "intermediate" },
                       { $0.preprocessing += " flip" }] {
            var other = key; change(&other)
            XCTAssertNil(cache.load(other))
        }
        let px = (0..<(40 * 48)).map { _ in UInt8(7) }
        try Data(try PNGCodec.encode(width: 48, height: 40, layout: .gray8, samples: px)).write(to: URL(fileURLWithPath: paths[2]))
        key.images = try contentHashes(paths)
        XCTAssertNil(cache.load(key), "an edited image changes the key")

        // Batch size does not change the features.
        let again = try FeatureExtraction.features(of: paths, backbone: net, resize: 32, crop: 32, batchSize: 5)
        let one = try FeatureExtraction.features(of: paths, backbone: net, resize: 32, crop: 32, batchSize: 1)
        for (a, b) in zip(again.toArray(), one.toArray()) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testDamagedEntriesAreMissesAndTheFolderStaysBounded() throws {
        let dir = root.appendingPathComponent("bounded").path
        let cache = FeatureCache(directory: dir, limitBytes: 3000)
        let keys = (0..<4).map { FeatureCache.Key(weights: "w", backbone: "b", boundary: "final", preprocessing: "p", images: ["\($0)"]) }
        for k in keys { try cache.store(Tensor(shape: [200], repeating: 1), for: k); Thread.sleep(forTimeInterval: 0.02) }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir)
        XCTAssertLessThanOrEqual(files.count, 3, "least recently used entries are evicted beyond the limit")
        XCTAssertNotNil(cache.load(keys[3]), "the newest entry survives")
        let victim = (dir as NSString).appendingPathComponent("\(keys[3].digest).safetensors")
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: victim))
        XCTAssertNil(cache.load(keys[3]), "a damaged entry is a miss")
        XCTAssertFalse(FileManager.default.fileExists(atPath: victim), "and is removed")
    }
}
