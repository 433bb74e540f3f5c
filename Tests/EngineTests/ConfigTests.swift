import XCTest
import Backbones
import Engine

final class ConfigTests: XCTestCase {
    let elpv = DatasetConfig(kind: .elpv)

    func testPresetsSetGroupsAndLearningRates() throws {
        let fe = ExperimentConfig.preset(.featureExtraction, backbone: "efficientnet_lite0", dataset: elpv)
        XCTAssertTrue(fe.groups.values.allSatisfy { !$0.trainable && $0.batchNorm == .frozen })
        XCTAssertEqual(fe.head.learningRate, 1e-3)
        let top = ExperimentConfig.preset(.fineTuneTop, backbone: "efficientnet_lite0", dataset: elpv, headLR: 1e-3)
        XCTAssertFalse(top.groups["early"]!.trainable)
        XCTAssertEqual(top.groups["intermediate"]!.learningRate!, 1e-5, accuracy: 1e-12)
        XCTAssertEqual(top.groups["final"]!.learningRate!, 1e-4, accuracy: 1e-12)
        XCTAssertEqual(top.epochs, 8)
        let all = ExperimentConfig.preset(.fineTuneAll, backbone: "resnet18", dataset: elpv)
        XCTAssertTrue(all.groups.values.allSatisfy { $0.trainable && $0.learningRate == 1e-4 })
        for preset in ExperimentConfig.Preset.allCases {
            XCTAssertNoThrow(try ExperimentConfig.preset(preset, backbone: "efficientnet_lite0", dataset: elpv).validate(knownBackbones: Backbones.names), preset.rawValue)
        }
        XCTAssertThrowsError(try ExperimentConfig.Preset(named: "fine-tune-some", field: "preset")) { e in
            XCTAssertEqual((e as? ExperimentConfig.Invalid)?.field, "preset")
            XCTAssertEqual("\(e)", "config field `preset`: 'fine-tune-some' is not one of feature-extraction, fine-tune-top, fine-tune-all, gradual; did you mean `fine-tune-top`?")
        }
    }

    func testGradualUnfreezesOneGroupEveryNEpochsFromTheTop() throws {
        let g = ExperimentConfig.preset(.gradual, backbone: "efficientnet_lite0", dataset: elpv)
        let trainable = { (e: Int) in ExperimentConfig.groupOrder.filter { g.policies(atEpoch: e)[$0]!.trainable } }
        XCTAssertEqual(trainable(0), []); XCTAssertEqual(trainable(2), [])
        XCTAssertEqual(trainable(3), ["final"]); XCTAssertEqual(trainable(6), ["intermediate", "final"])
        XCTAssertEqual(trainable(9), ["early", "intermediate", "final"]); XCTAssertEqual(trainable(50), ["early", "intermediate", "final"])
        XCTAssertEqual(g.policies(atEpoch: 6)["intermediate"]!.learningRate!, 1e-5, accuracy: 1e-12)
    }

    func testInvalidConfigsNameTheFieldAndTheReason() throws {
        let base = ExperimentConfig.preset(.fineTuneTop, backbone: "resnet18", dataset: elpv)
        func expect(_ field: String, _ change: (inout ExperimentConfig) -> Void, line: UInt = #line) {
            var c = base; change(&c)
            XCTAssertThrowsError(try c.validate(knownBackbones: Backbones.names), line: line) { e in
                XCTAssertEqual((e as? ExperimentConfig.Invalid)?.field, field, "\(e)", line: line)
            }
        }
        expect("backbone") { $0.backbone = "alexnet" }
        expect("groups.final.learningRate") { $0.groups["final"]!.learningRate = nil }
        expect("groups.final.learningRate") { $0.groups["final"]!.learningRate = -1 }
        expect("groups.early") { $0.groups["early"] = nil }
        expect("groups.middle") { $0.groups["middle"] = .frozen }
        expect("epochs") { $0.epochs = 0 }
        expect("batchSize") { $0.batchSize = 0 }
        expect("split.validationFraction") { $0.split.validationFraction = 1 }
        expect("dataset.path") { $0.dataset = DatasetConfig(kind: .folder) }
        expect("head.hidden") { $0.head.kind = .mlp }
        expect("head.dropout") { $0.head.dropout = 1 }
        expect("version") { $0.version = 2 }
        expect("unfreezeEvery") { $0.unfreezeEvery = 2 }
        expect("augmentation.rotationDegrees") { $0.augmentation.rotationDegrees = 200 }
        expect("augmentation.cropScale") { $0.augmentation.cropScale = [0.5, 0.2] }
        expect("split.folds") { $0.split.folds = 1 }
        expect("split.fold") { $0.split.folds = 5; $0.split.fold = 5 }
        expect("split.fold") { $0.split.fold = 1 }
        expect("augmentation.brightness") { $0.augmentation.brightness = -0.1 }
    }

    func testOnlyFixedGroupsWithoutAugmentationMakeAFeatureExtractionRun() throws {
        var c = ExperimentConfig.preset(.featureExtraction, backbone: "efficientnet_lite0", dataset: elpv)
        XCTAssertEqual(c.fixedPrefix, ["early", "intermediate", "final"])
        XCTAssertEqual(Experiment.strategy(of: c), .featureExtraction)
        // stats-only BatchNorm moves running statistics in training: not a fixed function, so images it is.
        c.groups["final"] = GroupPolicy(trainable: false, learningRate: nil, batchNorm: .statsOnly)
        XCTAssertEqual(c.fixedPrefix, ["early", "intermediate"])
        XCTAssertEqual(Experiment.strategy(of: c), .fineTuning)
        let gradual = ExperimentConfig.preset(.gradual, backbone: "efficientnet_lite0", dataset: elpv)
        XCTAssertEqual(gradual.fixedPrefix, [], "gradual unfreezes every group within its 12 epochs")
    }

    func testKFoldSplitConfigPicksOneFoldOfAPartition() throws {
        let labels = (0..<40).map { $0 % 3 }
        var s = SplitConfig()
        s.folds = 4
        var validated: [Int] = []
        for f in 0..<4 {
            s.fold = f
            let (t, v) = s.indices(labels: labels)
            XCTAssertTrue(Set(t).isDisjoint(with: v)); XCTAssertEqual(t.count + v.count, 40)
            validated += v
        }
        XCTAssertEqual(validated.sorted(), Array(0..<40), "every sample is validated in exactly one fold")
        let decoded = try ExperimentConfig.decode(Data(#"{"name":"cv","dataset":{"kind":"elpv"},"backbone":"resnet18","groups":{},"split":{"folds":5,"fold":2}}"#.utf8))
        XCTAssertEqual(decoded.split.folds, 5); XCTAssertEqual(decoded.split.fold, 2); XCTAssertEqual(decoded.split.validationFraction, 0.25)
    }

    func testJSONRoundTripAndDefaultsForOmittedFields() throws {
        let c = ExperimentConfig.preset(.fineTuneTop, backbone: "efficientnet_lite0", dataset: elpv)
        XCTAssertEqual(try ExperimentConfig.decode(try c.encoded()), c)
        let minimal = #"{"name":"mine","dataset":{"kind":"elpv"},"backbone":"resnet18","groups":{"early":{"trainable":false},"intermediate":{"trainable":false},"final":{"trainable":true,"learningRate":0.0001}}}"#
        let m = try ExperimentConfig.decode(Data(minimal.utf8))
        XCTAssertEqual(m.epochs, 30); XCTAssertEqual(m.batchSize, 32); XCTAssertEqual(m.head.learningRate, 1e-3)
        XCTAssertEqual(m.groups["early"]!.batchNorm, .frozen, "frozen groups default to inference-mode BatchNorm")
        XCTAssertEqual(m.groups["final"]!.batchNorm, .train)
        XCTAssertNoThrow(try m.validate(knownBackbones: Backbones.names))
        XCTAssertThrowsError(try ExperimentConfig.decode(Data(#"{"name":"x","dataset":{"kind":"elpv"},"groups":{}}"#.utf8))) { e in
            XCTAssertEqual("\(e)", "config field `backbone`: missing")
        }
        XCTAssertThrowsError(try ExperimentConfig.decode(Data(#"{"name":"x","dataset":{"kind":"elpv"},"backbone":"r","groups":{},"epochs":"ten"}"#.utf8))) { e in
            XCTAssertEqual((e as? ExperimentConfig.Invalid)?.field, "epochs")
        }
    }

    /// The issue's example: it used to run 30 epochs at batch 32 and lr 1e-3 and exit 0.
    func testUnknownKeysAreRefusedAtEveryLevelWithTheNearestKnownName() throws {
        func refusal(_ json: String) -> String {
            do { _ = try ExperimentConfig.decode(Data(json.utf8)); return "accepted" } catch { return "\(error)" }
        }
        let base = #""name":"x","dataset":{"kind":"elpv"},"backbone":"resnet18","groups":{"early":{"trainable":false},"intermediate":{"trainable":false},"final":{"trainable":false}}"#
        XCTAssertEqual(refusal("{" + base + #","epoch":3,"batch_size":8,"head":{"learningrate":0.5}}"#),
                       "config field `epoch`: unknown key; did you mean `epochs`?; also unknown: `batch_size` (did you mean `batchSize`?), `head.learningrate` (did you mean `learningRate`?)")
        XCTAssertEqual(refusal("{" + base + #","head":{"learningrate":0.5}}"#), "config field `head.learningrate`: unknown key; did you mean `learningRate`?")
        // Every level: each object names its own path.
        let cases: [(String, String)] = [
            (#""dataset":{"kind":"elpv","pth":"x"}"#, "dataset.pth"),
            (#""split":{"validation":0.2}"#, "split.validation"),
            (#""augmentation":{"hflip":true}"#, "augmentation.hflip"),
            (#""schedule":{"cosine":{"warmup":5,"minFactor":0.1}}"#, "schedule.cosine.warmup"),
            (#""schedule":{"cosin":{"warmupSteps":5,"minFactor":0.1}}"#, "schedule.cosin"),
        ]
        for (field, path) in cases {
            let json = "{" + base.replacingOccurrences(of: #""dataset":{"kind":"elpv"},"#, with: field.hasPrefix(#""dataset""#) ? "" : #""dataset":{"kind":"elpv"},"#) + "," + field + "}"
            XCTAssertTrue(refusal(json).hasPrefix("config field `\(path)`: unknown key"), "\(path): \(refusal(json))")
        }
        XCTAssertEqual(refusal(#"{"name":"x","dataset":{"kind":"elpv"},"backbone":"resnet18","groups":{"early":{"trainable":true,"learning_rate":0.1}}}"#),
                       "config field `groups.early.learning_rate`: unknown key; did you mean `learningRate`?")
        // A misspelt required key is reported as unknown (with the fix), not as the missing one.
        XCTAssertEqual(refusal(#"{"name":"x","dataset":{"kind":"elpv"},"backbon":"resnet18","groups":{}}"#),
                       "config field `backbon`: unknown key; did you mean `backbone`?")
        // Nothing near: the known keys are listed.
        XCTAssertTrue(refusal("{" + base + #","colour":"red"}"#).hasPrefix("config field `colour`: unknown key; known: version, name, dataset"))
        XCTAssertEqual(Suggestion.nearest("epoch", in: ["epochs", "seed"]), "epochs")
        XCTAssertNil(Suggestion.nearest("colour", in: ["epochs", "seed"]))
        // Every shipped and generated config still decodes.
        let full = try ExperimentConfig.preset(.gradual, backbone: "resnet18", dataset: .elpv).encoded()
        XCTAssertNoThrow(try ExperimentConfig.decode(full))
        var withSchedule = ExperimentConfig.preset(.fineTuneAll, backbone: "resnet18", dataset: .elpv)
        withSchedule.schedule = .defaultOneCycle
        XCTAssertEqual(try ExperimentConfig.decode(try withSchedule.encoded()), withSchedule)
    }

    func testShippedPresetFilesMatchTheCode() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../experiments")
        for preset in ExperimentConfig.Preset.allCases {
            let name = preset.rawValue
            let file = dir.appendingPathComponent("\(name).json")
            let shipped = try ExperimentConfig.decode(Data(contentsOf: file))
            XCTAssertEqual(shipped, ExperimentConfig.preset(preset, backbone: "efficientnet_lite0", dataset: elpv), "experiments/\(name).json is stale: regenerate with `tlab config --preset \(name)`")
        }
    }

    /// Named choices are enums in code and their names on disk; an unknown name is refused with the field,
    /// the choices and the nearest one (it used to pass decoding as a free string).
    func testChoicesAreStoredByNameAndUnknownNamesAreRefused() throws {
        var c = ExperimentConfig.preset(.fineTuneTop, backbone: "resnet18", dataset: DatasetConfig(argument: "data/set.csv"))
        c.optimizer = .sgd
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: try c.encoded()) as? [String: Any])
        XCTAssertEqual(json["optimizer"] as? String, "sgd")
        XCTAssertEqual((json["dataset"] as? [String: Any])?["kind"] as? String, "csv")
        XCTAssertEqual(((json["groups"] as? [String: Any])?["final"] as? [String: Any])?["batchNorm"] as? String, "train")
        XCTAssertEqual(DatasetConfig(argument: "elpv"), .elpv)
        XCTAssertEqual(DatasetConfig(argument: "some/folder"), DatasetConfig(kind: .folder, path: "some/folder"))
        func refusal(_ json: String) -> String {
            do { _ = try ExperimentConfig.decode(Data(json.utf8)); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal(#"{"name":"x","dataset":{"kind":"imagenet"},"backbone":"resnet18","groups":{}}"#),
                       "config field `dataset.kind`: 'imagenet' is not one of elpv, folder, csv")
        XCTAssertEqual(refusal(#"{"name":"x","dataset":{"kind":"elpv"},"backbone":"resnet18","groups":{},"optimizer":"adam"}"#),
                       "config field `optimizer`: 'adam' is not one of adamw, sgd; did you mean `adamw`?")
        XCTAssertEqual(refusal(#"{"name":"x","dataset":{"kind":"elpv"},"backbone":"resnet18","groups":{"early":{"trainable":false,"batchNorm":"statsonly"}}}"#),
                       "config field `groups.early.batchNorm`: 'statsonly' is not one of train, stats-only, frozen; did you mean `stats-only`?")
    }
}

final class MetricsTests: XCTestCase {
    func testConfusionPrecisionRecallF1ByHand() {
        // truth:      0 0 0 1 1 2 2 2 2 3
        // prediction: 0 0 1 1 2 2 2 3 2 3
        let truth = [0, 0, 0, 1, 1, 2, 2, 2, 2, 3], pred = [0, 0, 1, 1, 2, 2, 2, 3, 2, 3]
        let groups: [String?] = ["mono", "mono", "poly", "poly", "mono", "poly", "poly", "mono", "mono", nil]
        let m = ClassificationMetrics(classNames: ["a", "b", "c", "d"], truth: truth, predictions: pred, loss: 0.5,
                                      groups: groups, positive: { $0 >= 2 })
        XCTAssertEqual(m.confusion, [[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 3, 1], [0, 0, 0, 1]])
        XCTAssertEqual(m.accuracy, 0.7, accuracy: 1e-12)
        XCTAssertEqual(m.support, [3, 2, 4, 1])
        XCTAssertEqual(m.precision, [1, 0.5, 0.75, 0.5])
        XCTAssertEqual(m.recall[0], 2.0 / 3, accuracy: 1e-12); XCTAssertEqual(m.recall[2], 0.75)
        XCTAssertEqual(m.f1[0], 0.8, accuracy: 1e-12); XCTAssertEqual(m.f1[3], 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(m.groupSupport, ["mono": 5, "poly": 4])
        XCTAssertEqual(m.groupAccuracy["mono"]!, 0.6, accuracy: 1e-12); XCTAssertEqual(m.groupAccuracy["poly"]!, 0.75, accuracy: 1e-12)
        // binary view {0,1} vs {2,3}: only sample 4 (truth 1 → predicted 2) crosses sides
        XCTAssertEqual(m.binaryAccuracy!, 0.9, accuracy: 1e-12)
        XCTAssertNil(ClassificationMetrics(classNames: ["a", "b"], truth: [0], predictions: [0], loss: 0).binaryAccuracy)
    }
}

extension ConfigTests {
    /// `--head-lr` means one thing with a preset and with a config: the head's rate, the groups' ratios kept.
    func testRescalingTheHeadRateKeepsEveryGroupsRatio() {
        var fromConfig = ExperimentConfig.preset(.fineTuneTop, backbone: "efficientnet_lite0", dataset: .elpv)
        fromConfig.rescaleLearningRates(headLearningRate: 1e-2)
        let fromPreset = ExperimentConfig.preset(.fineTuneTop, backbone: "efficientnet_lite0", dataset: .elpv, headLR: 1e-2)
        XCTAssertEqual(fromConfig.head.learningRate, 1e-2)
        for g in ExperimentConfig.groupOrder {
            XCTAssertEqual(fromConfig.groups[g]?.learningRate ?? 0, fromPreset.groups[g]?.learningRate ?? 0, accuracy: 1e-15, g)
        }
        XCTAssertNil(fromConfig.groups["early"]?.learningRate, "a frozen group stays without a rate")
    }
}
