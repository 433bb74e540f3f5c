import XCTest
import Backbones
import Engine
import ImageData
import Kernels

/// Things done in one place only: the cached backbone pass and its key, dataset loading, class probabilities,
/// JSON lines.
final class OneImplementationTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-one-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    /// A feature-extraction run caches under the key `CachedPass` builds (what `tlab features` uses), and a
    /// second pass over the same files is a hit with the same features; a prefix pass has its own key.
    func testARunAndACachedPassShareTheCacheEntry() throws {
        let ws = try makeTestWorkspace(root)
        var c = try workspaceConfig(root)
        c.epochs = 1
        _ = try Experiment.run(c, paths: ws).summary()
        let net = try PretrainedWeights.load(arch: "mobilenet_v2", from: ws.weightsFile("mobilenet_v2"))
        let files = try c.dataset.load(paths: ws).dataset.samples.map(\.path)
        let pass = CachedPass(net: net, weightsFile: ws.weightsFile("mobilenet_v2"), crop: 32, batchSize: 16)
        XCTAssertEqual(pass.boundary, "features")
        var progressed = 0
        let result = try pass.run(files, cache: FeatureCache(directory: ws.cache)) { _ in progressed += 1 }
        XCTAssertTrue(result.cacheHit, "the run's cache entry is found under the shared key")
        XCTAssertEqual(progressed, 0)
        XCTAssertEqual(result.output.shape, [files.count, 1280])
        XCTAssertTrue(FileManager.default.fileExists(atPath: ws.cache + "/\(result.key.digest).safetensors"))

        let early = net.groups.first { $0.name == "early" }!.children.upperBound
        let prefix = CachedPass(net: net, through: early, weightsFile: ws.weightsFile("mobilenet_v2"), crop: 32, batchSize: 16)
        XCTAssertEqual(prefix.boundary, "after-early"); XCTAssertEqual(prefix.phase, "prefix")
        var events: [TrainingEvent.Progress] = []
        let computed = try prefix.run(files, cache: FeatureCache(directory: ws.cache)) { events.append($0) }
        XCTAssertFalse(computed.cacheHit)
        XCTAssertNotEqual(computed.key.digest, result.key.digest)
        XCTAssertEqual(events.map(\.done), [16, 32, 48]); XCTAssertEqual(events.last?.total, 48); XCTAssertEqual(events.last?.etaSeconds, 0)
        XCTAssertTrue(try prefix.run(files, cache: FeatureCache(directory: ws.cache)).cacheHit)
    }

    func testDatasetConfigsLoadThroughOneFunction() throws {
        _ = try makeTestWorkspace(root)
        let folder = try DatasetConfig(kind: .folder, path: root.appendingPathComponent("data").path).load()
        XCTAssertEqual(folder.dataset.classNames, ["bright", "dark"]); XCTAssertNil(folder.predefinedSplit); XCTAssertNil(folder.positive)
        try "bright/0.png,bright\ndark/0.png,dark\n".write(to: root.appendingPathComponent("data/set.csv"), atomically: true, encoding: .utf8)
        let csv = try DatasetConfig(argument: root.appendingPathComponent("data/set.csv").path).load()
        XCTAssertEqual(csv.dataset.samples.count, 2)
        XCTAssertThrowsError(try DatasetConfig(kind: .csv).load()) { e in XCTAssertEqual((e as? ExperimentConfig.Invalid)?.field, "dataset.path") }
        var paths = ExperimentPaths(home: root.path)
        paths.elpvRoot = root.appendingPathComponent("no-elpv").path
        XCTAssertThrowsError(try DatasetConfig.elpv.load(paths: paths)) { e in XCTAssertTrue("\(e)".contains("no-elpv/labels.csv"), "\(e)") }
    }

    func testProbabilitiesArgmaxAndTopK() {
        let p = Probabilities.softmax([1000, 1000, -1000])
        XCTAssertEqual(p[0], 0.5, accuracy: 1e-12); XCTAssertEqual(p[2], 0)
        XCTAssertEqual(Probabilities.softmax([0, log(3)]).map { ($0 * 1e12).rounded() / 1e12 }, [0.25, 0.75])
        XCTAssertEqual(Probabilities.argmax([1, 3, 3, 2]), 1, "the first of equal maxima")
        XCTAssertEqual(Probabilities.topK([0.1, 0.5, 0.2, 0.5], 3), [1, 3, 2])
        let logits = Tensor(shape: [2, 3], repeating: 0)
        logits[1, 2] = 5
        XCTAssertEqual(Probabilities.row(logits, 1), [0, 0, 5])
    }

    /// Every command's JSON goes through JSONLines: control characters are escaped, numbers round-trip.
    func testJSONLinesEscapesEveryControlCharacterAndRoundTripsNumbers() throws {
        struct Line: Codable, Equatable { var text: String; var x: Double }
        let value = Line(text: "tab\there \u{1}\u{1F} quote\" back\\ new\nline /slash", x: 0.1 + 0.2)
        let line = try JSONLines.string(value)
        XCTAssertFalse(line.contains("\n") || line.contains("\t") || line.contains("\u{1}"), line)
        XCTAssertTrue(line.contains("/slash"), "slashes are not escaped")
        XCTAssertEqual(try JSONLines.decoder().decode(Line.self, from: Data(line.utf8)), value)
    }
}
