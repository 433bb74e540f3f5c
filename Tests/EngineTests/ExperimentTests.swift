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

    func makePaths() throws -> ExperimentPaths { try makeTestWorkspace(root) }

    func config(_ ws: ExperimentPaths) throws -> ExperimentConfig { try workspaceConfig(root) }

    func testFeatureExtractionLearnsWritesTheRunFolderAndReusesTheCache() throws {
        let ws = try makePaths()
        var events: [[String: Any]] = []
        let s = try Experiment.run(try config(ws), paths: ws) { events.append($0.json) }.summary()
        XCTAssertFalse(s.cacheHit)
        XCTAssertGreaterThanOrEqual(s.last.accuracy, 0.9, "a frozen backbone's features separate bright from dark centres")
        let files = try FileManager.default.contentsOfDirectory(atPath: s.runPath).filter { !$0.hasPrefix(".") }.sorted()
        XCTAssertEqual(files, ["checkpoints", "config.json", "confusion.json", "metrics.jsonl", "split.json", "summary.json", "validation.json"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: s.runPath + "/checkpoints/best.safetensors"))
        let lines = try String(contentsOfFile: s.runPath + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
        let kinds = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["event"] as? String }
        XCTAssertEqual(kinds.first, "started"); XCTAssertEqual(kinds.last, "summary")
        XCTAssertEqual(kinds.filter { $0 == "epoch" }.count, 40)
        XCTAssertEqual(events.count, lines.count, "every event the caller sees is in the log")
        let history = try RunLogReader.history(of: s.runPath)
        XCTAssertEqual(history.epochs.count, 40)
        XCTAssertTrue(history.isFinished)
        // The worst validation images of each epoch, highest loss first; validation.json has every one.
        let worst = try XCTUnwrap(events.last { $0["event"] as? String == "epoch" }?["worst"] as? [[String: Any]])
        XCTAssertEqual(worst.count, 5)
        XCTAssertEqual(worst.map { $0["loss"] as! Double }, worst.map { $0["loss"] as! Double }.sorted(by: >))
        let validation = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.runPath + "/validation.json"))) as! [String: Any]
        let rows = try XCTUnwrap(validation["samples"] as? [[String: Any]])
        XCTAssertEqual(rows.count, 12)
        XCTAssertEqual(validation["epoch"] as? Int, s.bestEpoch)
        XCTAssertEqual(rows.filter { $0["truth"] as? Int == $0["prediction"] as? Int }.count, s.best.confusion[0][0] + s.best.confusion[1][1])
        XCTAssertTrue(rows.allSatisfy { FileManager.default.fileExists(atPath: $0["file"] as! String) })
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.runPath + "/summary.json"))) as! [String: Any]
        XCTAssertEqual(summary["strategy"] as? String, "feature-extraction")
        XCTAssertEqual(summary["trainable_params"] as? Int, 1280 * 2 + 2)

        // The run reads back: listed, resolvable by id prefix, and its best head re-evaluates to the same metrics.
        XCTAssertEqual(RunRecords.list(root: ws.runs), [s.runPath])
        XCTAssertEqual(try RunRecords.resolve(String(s.runID.prefix(12)), root: ws.runs), s.runPath)
        XCTAssertEqual(try RunRecords.summary(s.runPath)?.finalValAccuracy, s.last.accuracy)
        let re = try RunRecords.evaluate(s.runPath, paths: ws)
        XCTAssertEqual(re.confusion, s.best.confusion)
        XCTAssertEqual(re.loss, s.best.loss, accuracy: 1e-4)
        XCTAssertThrowsError(try RunRecords.resolve("nope", root: ws.runs))

        // Another head learning rate: features come from the cache, and the same seed gives the same curve.
        var again = try config(ws)
        let second = try Experiment.run(again, paths: ws).summary()
        XCTAssertTrue(second.cacheHit)
        XCTAssertEqual(second.last.accuracy, s.last.accuracy, "same config and seed, same result")
        again.head.learningRate = 1e-3
        XCTAssertTrue(try Experiment.run(again, paths: ws).summary().cacheHit)
    }

    func testNaNLossStopsTheRunWithAReason() throws {
        let ws = try makePaths()
        var c = try config(ws)
        c.head.learningRate = 1e30; c.optimizer = .sgd; c.momentum = 0
        var failed: [String: Any]?
        XCTAssertThrowsError(try Experiment.run(c, paths: ws) { if case .failed = $0 { failed = $0.json } }) { e in
            XCTAssertTrue("\(e)".contains("loss became"), "\(e)")
        }
        XCTAssertNotNil(failed?["reason"])
    }

    func testFineTuneTopTrainsOnlyItsGroupsAndLearns() throws {
        let ws = try makePaths()
        var c = try config(ws)
        // Synthetic running statistics describe no real data, so the trainable group keeps Keras-style frozen
        // BatchNorm here (batch statistics in training would differ wildly from them at validation).
        c.groups["final"] = .trained(1e-3, batchNorm: .frozen)
        c.augmentation = AugmentationConfig(horizontalFlip: true)
        c.epochs = 10
        let net = try PretrainedWeights.load(arch: "mobilenet_v2", from: PretrainedWeights.defaultPath(arch: "mobilenet_v2", directory: ws.weights))
        let earlyBefore = net.layers(inGroup: "early").flatMap(\.parameters).map { $0.value.toArray() }
        var events: [[String: Any]] = []
        let s = try Experiment.run(c, paths: ws) { events.append($0.json) }.summary()
        XCTAssertGreaterThanOrEqual(s.last.accuracy, 0.9)
        let epochs = events.filter { $0["event"] as? String == "epoch" }
        XCTAssertEqual(epochs.count, 10)
        XCTAssertEqual(epochs[0]["trainable_groups"] as? [String], ["final"])
        let lr = try XCTUnwrap(epochs[0]["lr"] as? [String: Any]).mapValues { ($0 as! NSNumber).doubleValue }
        XCTAssertEqual(lr["early"], 0); XCTAssertEqual(lr["intermediate"], 0)
        XCTAssertEqual(lr["final"]!, 1e-3, accuracy: 1e-9); XCTAssertEqual(lr["head"]!, 3e-3, accuracy: 1e-9)
        XCTAssertTrue(events.contains { $0["event"] as? String == "step" })
        // The saved model: frozen groups are bit-identical to the pretrained weights, the final group moved.
        let saved = try Safetensors.read(path: s.runPath + "/checkpoints/last.safetensors")
        let byName = Dictionary(uniqueKeysWithValues: saved.entries.map { ($0.name, $0.tensor.toArray()) })
        let earlyNames = net.features.namedParameters.filter { p in net.layers(inGroup: "early").flatMap(\.parameters).contains { $0 === p.1 } }.map(\.0)
        XCTAssertEqual(earlyNames.map { byName[$0]! }, earlyBefore, "the frozen early group never moves")
        let finalName = net.features.namedParameters.first { p in net.layers(inGroup: "final").flatMap(\.parameters).contains { $0 === p.1 } }!.0
        XCTAssertNotEqual(byName[finalName]!, net.features.namedParameters.first { $0.0 == finalName }!.1.value.toArray())
        XCTAssertNotNil(byName["head.fc.weight"])
        // `tlab eval` of a fine-tuned run loads its backbone as well as its head. It runs the whole network,
        // while the run validated epochs after the first on its cached early + intermediate activations.
        XCTAssertGreaterThan(s.bestEpoch, 1, "the best epoch's validation ran on the cached prefix")
        let re = try RunRecords.evaluate(s.runPath, paths: ws)
        XCTAssertEqual(re.confusion, s.best.confusion)
        XCTAssertEqual(re.loss, s.best.loss, accuracy: 1e-4)
    }

    /// Early and intermediate frozen (inference-mode BatchNorm), no augmentation: their output is cached at
    /// the boundary and each step runs only the final group and the head — with the results of running all.
    func testAFrozenPrefixIsCachedAtItsBoundaryAndTrainsLikeTheFullNetwork() throws {
        var ws = try makePaths()
        var c = try config(ws)
        c.groups["final"] = .trained(1e-3, batchNorm: .frozen)
        c.epochs = 3
        var events: [[String: Any]] = []
        let cached = try Experiment.run(c, paths: ws) { events.append($0.json) }.summary()
        XCTAssertEqual(events.first { $0["event"] as? String == "features_ready" }?["cache_hit"] as? Bool, false)
        let summary = try XCTUnwrap(RunRecords.summary(cached.runPath))
        XCTAssertEqual(summary.cachedGroups, ["early", "intermediate"])
        XCTAssertEqual(summary.strategy, "fine-tuning")

        ws.cacheFrozenPrefix = false
        var fullEvents: [[String: Any]] = []
        let full = try Experiment.run(c, paths: ws) { fullEvents.append($0.json) }.summary()
        XCTAssertFalse(fullEvents.contains { $0["event"] as? String == "features_ready" }, "the full network runs every step")
        let epochs = { (e: [[String: Any]]) in e.filter { $0["event"] as? String == "epoch" } }
        for (a, b) in zip(epochs(events), epochs(fullEvents)) {
            XCTAssertEqual(a["train_loss"] as! Double, b["train_loss"] as! Double, accuracy: 1e-4)
            XCTAssertEqual(a["val_loss"] as! Double, b["val_loss"] as! Double, accuracy: 1e-4)
        }
        XCTAssertEqual(cached.last.confusion, full.last.confusion)
        XCTAssertEqual(try RunRecords.evaluate(cached.runPath, paths: ws).confusion, cached.best.confusion)

        // Another head learning rate: the prefix comes from the cache.
        ws.cacheFrozenPrefix = true
        c.head.learningRate = 1e-3
        var again: [[String: Any]] = []
        _ = try Experiment.run(c, paths: ws) { again.append($0.json) }.summary()
        XCTAssertEqual(again.first { $0["event"] as? String == "features_ready" }?["cache_hit"] as? Bool, true)
    }

    func testAnUnreadableImageFailsTheRunNamingTheFile() throws {
        let ws = try makePaths()
        var c = try config(ws)
        c.groups["final"] = .trained(1e-3, batchNorm: .frozen)
        c.epochs = 1
        let bad = root.appendingPathComponent("data/dark/5.png").path
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: bad))
        XCTAssertThrowsError(try Experiment.run(c, paths: ws)) { e in
            XCTAssertTrue("\(e)".contains("\(bad): not a PNG file"), "\(e)")
        }
        c.groups["final"] = .frozen  // feature extraction reads every image up front: same clear error
        XCTAssertThrowsError(try Experiment.run(c, paths: ws)) { e in XCTAssertTrue("\(e)".contains(bad), "\(e)") }
    }

    func testStatsOnlyBatchNormUpdatesStatisticsButNotWeights() throws {
        let ws = try makePaths()
        var c = try config(ws)
        c.groups["final"] = .trained(1e-3, batchNorm: .frozen)
        c.groups["intermediate"] = GroupPolicy(trainable: false, learningRate: nil, batchNorm: .statsOnly)
        c.epochs = 1
        let s = try Experiment.run(c, paths: ws).summary()
        let net = try PretrainedWeights.load(arch: "mobilenet_v2", from: PretrainedWeights.defaultPath(arch: "mobilenet_v2", directory: ws.weights))
        let saved = Dictionary(uniqueKeysWithValues: try Safetensors.read(path: s.runPath + "/checkpoints/last.safetensors").entries.map { ($0.name, $0.tensor.toArray()) })
        let pretrained = Dictionary(uniqueKeysWithValues: net.namedTensors.map { ($0.0, $0.1.toArray()) })
        // features.7 lies in the intermediate group of MobileNetV2, features.1 in the early one.
        XCTAssertNotEqual(saved["features.7.conv.0.1.running_mean"], pretrained["features.7.conv.0.1.running_mean"], "stats-only: statistics move")
        XCTAssertEqual(saved["features.7.conv.0.1.weight"], pretrained["features.7.conv.0.1.weight"], "stats-only: weights stay")
        XCTAssertEqual(saved["features.1.conv.0.1.running_mean"], pretrained["features.1.conv.0.1.running_mean"], "frozen: statistics stay")
    }
}

extension TrainingEvent {
    /// The event's metrics.jsonl line as a JSON object: tests assert on the wire format itself.
    var json: [String: Any] { try! JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as! [String: Any] }
}

/// The fixed prefix's output kept per (training image, flips): the second time a pair is drawn it comes from
/// memory with the bits the prefix gives, and a fine-tune with flips trains exactly as it does without it.
final class FlippedPrefixCacheTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-flipcache-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    func testPairsComeBackWithThePrefixBits() throws {
        // Lite0 at 224, whose early group ends at 28×28 (per-core tiles, the fused expand → depthwise).
        let net = Backbones.make("efficientnet_lite0")!
        SyntheticWeights.apply(to: net)
        net.setPolicy(group: "early", trainable: false, frozenBatchNorm: true)
        let end = net.groups.first { $0.name == "early" }!.children.upperBound
        let flips = Augmentation(cropScale: nil, horizontalFlip: true, verticalFlip: true, rotationDegrees: 0, brightness: 0, contrast: 0)
        let floats = FlippedPrefixCache(net: net, end: end, crop: 224, augmentation: flips, capacityBytes: 0).floatsPerImage
        let cache = FlippedPrefixCache(net: net, end: end, crop: 224, augmentation: flips, capacityBytes: 5 * floats * 4)
        XCTAssertEqual(cache.imageShape, [40, 28, 28])
        XCTAssertEqual(cache.capacity, 5)
        var g = SeededGenerator(seed: 3)
        let images = Tensor.randomUniform([4, 3, 224, 224], -1, 1, generator: &g)
        let seeds: [UInt64] = [11, 12, 13, 14]
        let expected = cache.prefix.forward(images, mode: FlippedPrefixCache.prefixMode).toArray()
        let first = cache.plan(samples: [0, 1, 2, 3], seeds: seeds)
        XCTAssertEqual(first.missing, [0, 1, 2, 3])
        XCTAssertTrue(cache.activations(first, images: images).toArray() == expected)
        // Same samples and seeds: every pair is held, and no image is needed.
        let again = cache.plan(samples: [0, 1, 2, 3], seeds: seeds)
        XCTAssertEqual(again.missing, [])
        XCTAssertTrue(cache.activations(again, images: Tensor(zeros: [0, 3, 224, 224])).toArray() == expected)
        // Another sample, or the same sample drawn in another form, is not.
        let otherForm = (UInt64(100)...).first { cache.key(sample: 0, seed: $0) != first.keys[0] }!
        let other = cache.plan(samples: [9, 0], seeds: [11, otherForm])
        XCTAssertEqual(other.missing, [0, 1])
        XCTAssertEqual(cache.count, 4)
        // Not keeping new pairs (a run's last epoch): they come out right and stay missing.
        let unkept = cache.plan(samples: [7], seeds: [11])
        let alone = cache.activations(unkept, images: images.slice(dim: 0, 0..<1), keepingNew: false).toArray()
        XCTAssertTrue(alone == Array(expected[0..<cache.floatsPerImage]))
        XCTAssertEqual(cache.count, 4)
        XCTAssertEqual(cache.plan(samples: [7], seeds: [11]).missing, [0])
        // Past the capacity (five pairs here) pairs still come out right but are not kept.
        let over = cache.plan(samples: [5, 6], seeds: [1, 2])
        let computed = cache.activations(over, images: images.slice(dim: 0, 0..<2)).toArray()
        XCTAssertTrue(computed == Array(expected[0..<2 * cache.floatsPerImage]), "two images alone give the bits they get in a batch of four")
        XCTAssertEqual(cache.count, 5)
    }

    func testAFlipsFineTuneTrainsBitForBitAsWithoutIt() throws {
        var ws = try makeTestWorkspace(root)
        var c = try workspaceConfig(root)
        c.groups["final"] = .trained(1e-3, batchNorm: .frozen)
        c.augmentation = AugmentationConfig(horizontalFlip: true, verticalFlip: true)
        c.epochs = 4
        func run() throws -> (epochs: [[String: Any]], weights: [[Float]]) {
            var events: [[String: Any]] = []
            let s = try Experiment.run(c, paths: ws) { events.append($0.json) }.summary()
            XCTAssertFalse(events.contains { $0["event"] as? String == "features_ready" }, "flipped images are not one fixed input")
            let saved = try Safetensors.read(path: s.runPath + "/checkpoints/last.safetensors")
            return (events.filter { $0["event"] as? String == "epoch" }, saved.entries.sorted { $0.name < $1.name }.map { $0.tensor.toArray() })
        }
        let cached = try run()
        ws.cacheFrozenPrefix = false
        let full = try run()
        XCTAssertEqual(cached.epochs.count, 4)
        for (a, b) in zip(cached.epochs, full.epochs) {
            XCTAssertEqual(a["train_loss"] as! Double, b["train_loss"] as! Double)
            XCTAssertEqual(a["val_loss"] as! Double, b["val_loss"] as! Double)
        }
        XCTAssertEqual(cached.weights, full.weights)
    }
}
