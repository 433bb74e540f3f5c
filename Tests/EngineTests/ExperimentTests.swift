import XCTest
import Backbones
import Engine
import ImageData
import WeightsIO
import Kernels

/// Feature extraction end to end on a generated image-folder dataset: bright-centred vs dark-centred
/// images, which even a synthetic-weight backbone's features separate.
final class ExperimentTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-exp-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    func makeWorkspace() throws -> Engine.Workspace {
        var ws = Engine.Workspace()
        ws.runs = root.appendingPathComponent("runs").path
        ws.cache = root.appendingPathComponent("cache").path
        ws.weights = root.appendingPathComponent("weights").path
        try FileManager.default.createDirectory(atPath: ws.weights, withIntermediateDirectories: true)
        let net = Backbones.make("mobilenet_v2")!
        SyntheticWeights.apply(to: net)
        try Safetensors.write(net.stateDict(metadata: ["arch": "mobilenet_v2"]), to: PretrainedWeights.defaultPath(arch: "mobilenet_v2", directory: ws.weights))
        var g = SeededGenerator(seed: 1)
        for cls in ["bright", "dark"] {
            let dir = root.appendingPathComponent("data/\(cls)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for i in 0..<24 {
                let px = (0..<(32 * 32)).map { p -> UInt8 in
                    let (y, x) = (p / 32, p % 32), centre = abs(y - 16) < 8 && abs(x - 16) < 8
                    let base = centre ? (cls == "bright" ? 220 : 30) : 120
                    return UInt8(max(0, min(255, base + Int(g.nextFloat() * 40) - 20)))
                }
                try Data(try PNGCodec.encode(width: 32, height: 32, layout: .gray8, samples: px)).write(to: dir.appendingPathComponent("\(i).png"))
            }
        }
        return ws
    }

    func config(_ ws: Engine.Workspace) throws -> ExperimentConfig {
        var c = try ExperimentConfig.preset("feature-extraction", backbone: "mobilenet_v2",
                                            dataset: DatasetConfig(kind: "folder", path: root.appendingPathComponent("data").path))
        c.resolution = 32; c.epochs = 40; c.batchSize = 8; c.head.learningRate = 3e-3
        return c
    }

    func testFeatureExtractionLearnsWritesTheRunFolderAndReusesTheCache() throws {
        let ws = try makeWorkspace()
        var events: [[String: Any]] = []
        let s = try Experiment.run(try config(ws), workspace: ws) { events.append($0) }
        XCTAssertFalse(s.cacheHit)
        XCTAssertGreaterThanOrEqual(s.last.accuracy, 0.9, "a frozen backbone's features separate bright from dark centres")
        let files = try FileManager.default.contentsOfDirectory(atPath: s.runPath).sorted()
        XCTAssertEqual(files, ["checkpoints", "config.json", "confusion.json", "metrics.jsonl", "split.json", "summary.json"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.runPath + "/checkpoints/best.safetensors"))
        let lines = try String(contentsOfFile: s.runPath + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let kinds = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["event"] as? String }
        XCTAssertEqual(kinds.first, "started"); XCTAssertEqual(kinds.last, "summary")
        XCTAssertEqual(kinds.filter { $0 == "epoch" }.count, 40)
        XCTAssertEqual(events.count, lines.count + events.filter { $0["event"] as? String == "features" }.count - kinds.filter { $0 == "features" }.count)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.runPath + "/summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["strategy"] as? String, "feature-extraction")
        XCTAssertEqual(summary["trainable_params"] as? Int, 1280 * 2 + 2)

        // The run reads back: listed, resolvable by id prefix, and its best head re-evaluates to the same metrics.
        XCTAssertEqual(RunRecords.list(root: ws.runs), [s.runPath])
        XCTAssertEqual(try RunRecords.resolve(String(s.runID.prefix(12)), root: ws.runs), s.runPath)
        XCTAssertEqual(RunRecords.summary(s.runPath)?["final_val_acc"] as? Double, s.last.accuracy)
        let re = try RunRecords.evaluate(s.runPath, workspace: ws)
        XCTAssertEqual(re.confusion, s.best.confusion)
        XCTAssertEqual(re.loss, s.best.loss, accuracy: 1e-4)
        XCTAssertThrowsError(try RunRecords.resolve("nope", root: ws.runs))

        // Another head learning rate: features come from the cache, and the same seed gives the same curve.
        var again = try config(ws)
        let second = try Experiment.run(again, workspace: ws)
        XCTAssertTrue(second.cacheHit)
        XCTAssertEqual(second.last.accuracy, s.last.accuracy, "same config and seed, same result")
        again.head.learningRate = 1e-3
        XCTAssertTrue(try Experiment.run(again, workspace: ws).cacheHit)
    }

    func testNaNLossStopsTheRunWithAReason() throws {
        let ws = try makeWorkspace()
        var c = try config(ws)
        c.head.learningRate = 1e30; c.optimizer = "sgd"; c.momentum = 0
        var failed: [String: Any]?
        XCTAssertThrowsError(try Experiment.run(c, workspace: ws) { if $0["event"] as? String == "failed" { failed = $0 } }) { e in
            XCTAssertTrue("\(e)".contains("loss became"), "\(e)")
        }
        XCTAssertNotNil(failed?["reason"])
    }

    func testFineTuningIsRefusedClearlyForNow() throws {
        let c = try ExperimentConfig.preset("fine-tune-top", backbone: "mobilenet_v2", dataset: DatasetConfig(kind: "elpv"))
        XCTAssertThrowsError(try Experiment.run(c)) { e in XCTAssertTrue("\(e)".contains("not available yet"), "\(e)") }
    }
}
