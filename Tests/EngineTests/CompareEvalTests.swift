import XCTest
import Engine
import ImageData

/// What `tlab compare` and `tlab eval` compute, in Engine: the class order and the differences to the
/// baseline, the JSON shape of a comparison, per-subgroup precision / recall / F1 from validation.json, the
/// worst mistakes and the most confused pairs, and stored results equal to the recompute path's.
final class CompareEvalTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-compare-eval-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    static let elpvClasses = ["p=0", "p=1/3", "p=2/3", "p=1"]

    /// A run folder written by hand: config.json, a log with `started` and one `epoch` per entry of `f1`
    /// (per-class F1 of that epoch; the last has the lowest validation loss), and a `summary` event when finished.
    func fabricateRun(_ name: String, classes: [String] = elpvClasses, f1: [Double], groups: [String: TrainingEvent.GroupScore],
                      accuracy: Double, configure: (inout ExperimentConfig) -> Void = { _ in }, finished: Bool = true) throws -> RunOverview {
        let path = root.appendingPathComponent("runs/\(name)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var c = ExperimentConfig.preset(.featureExtraction, backbone: "resnet18", dataset: DatasetConfig(kind: .elpv, path: "/data/elpv"))
        configure(&c)
        try c.encoded().write(to: URL(fileURLWithPath: path + "/config.json"))
        let scores = zip(classes, f1).map { TrainingEvent.ClassScore(name: $0, precision: $1, recall: $1, f1: $1, support: 10) }
        var events: [TrainingEvent] = [
            .started(.init(run: name, strategy: "feature-extraction", backbone: "resnet18", dataset: "elpv", train: 30, validation: 40,
                           classes: classes, groups: groups.keys.sorted(), batchNorm: [:], skippedFiles: 0, pid: 1)),
            .epoch(.init(epoch: 1, epochs: c.epochs, step: 4, trainLoss: 1, trainAccuracy: 0.5, valLoss: 0.5, valAccuracy: accuracy,
                         perClass: scores, groups: groups, elapsedSeconds: 10, epochSeconds: 10, imagesPerSecond: 3)),
        ]
        if finished { events.append(.summary(.init(run: name, valAccuracy: accuracy, valBinaryAccuracy: nil, bestEpoch: 1, epochs: 1, wallSeconds: 10))) }
        try (events.map { try JSONLines.string($0) }.joined(separator: "\n") + "\n").write(toFile: path + "/metrics.jsonl", atomically: true, encoding: .utf8)
        return try RunOverview.load(path)
    }

    /// Classes keep the dataset's order (p=1 last, never between p=0 and p=1/3 as text sorting puts it); a class
    /// only a later run has comes after the baseline's.
    func testClassesKeepTheDatasetsOrder() throws {
        XCTAssertEqual(RunComparison.classOrder([Self.elpvClasses, ["p=1", "p=0"]]), Self.elpvClasses)
        XCTAssertEqual(RunComparison.classOrder([["b", "a"], ["a", "c", "b"]]), ["b", "a", "c"])
        let a = try fabricateRun("a", f1: [0.9, 0.3, 0.2, 0.7], groups: [:], accuracy: 0.7)
        let b = try fabricateRun("b", f1: [0.8, 0.5, 0.1, 0.75], groups: [:], accuracy: 0.72)
        XCTAssertEqual(RunComparison([a, b]).classes, Self.elpvClasses)
        XCTAssertEqual(RunComparison([a, b]).runs[1].perClass.map(\.name), Self.elpvClasses)
    }

    /// Every difference is the run's value minus the baseline's, cell by cell; the baseline's are 0; a value
    /// one side lacks has no difference. The settings that differ include learning rates and augmentation.
    func testTheDifferenceColumnAgainstTheBaseline() throws {
        let a = try fabricateRun("a", f1: [0.9, 0.3, 0.2, 0.7], groups: ["mono": .init(accuracy: 0.8, n: 20), "poly": .init(accuracy: 0.6, n: 20)],
                                 accuracy: 0.70)
        let b = try fabricateRun("b", classes: ["p=0", "p=1/3", "p=2/3"], f1: [0.8, 0.5, 0.25], groups: ["mono": .init(accuracy: 0.85, n: 20)],
                                 accuracy: 0.75, configure: { c in
            c.groups["final"] = .trained(1e-4, batchNorm: .frozen); c.augmentation.horizontalFlip = true
        }, finished: false)
        let cmp = RunComparison([a, b])
        XCTAssertEqual(cmp.runs.map(\.baseline), [true, false])
        XCTAssertTrue(cmp.differing.contains("final lr") && cmp.differing.contains("augmentation"), "\(cmp.differing)")
        XCTAssertFalse(cmp.differing.contains("backbone"))
        XCTAssertEqual(cmp.runs[1].settings["final lr"], "0.0001")
        XCTAssertEqual(cmp.runs[1].state, "interrupted")
        let expected: [Double?] = [-0.1, 0.2, 0.05, nil]
        for (cell, want) in zip(cmp.runs[1].perClass, expected) {
            if let want { XCTAssertEqual(try XCTUnwrap(cell.f1Delta), want, accuracy: 1e-12, cell.name) } else { XCTAssertNil(cell.f1Delta, cell.name) }
        }
        XCTAssertNil(cmp.runs[1].perClass[3].f1)
        XCTAssertEqual(cmp.runs[0].perClass.map(\.f1Delta), [0, 0, 0, 0])
        XCTAssertEqual(try XCTUnwrap(cmp.runs[1].results.valAccuracyDelta), 0.05, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(cmp.runs[1].groups["mono"]?.accuracyDelta), 0.05, accuracy: 1e-12)
        XCTAssertNil(cmp.runs[1].groups["poly"]?.accuracy); XCTAssertNil(cmp.runs[1].groups["poly"]?.accuracyDelta)
        XCTAssertEqual(cmp.runs[0].groups["poly"], .init(accuracy: 0.6, accuracyDelta: 0, n: 20))
        XCTAssertTrue(cmp.comparable)
        let c = try fabricateRun("c", f1: [0.9, 0.3, 0.2, 0.7], groups: [:], accuracy: 0.7, configure: { $0.split.seed = 99 })
        XCTAssertFalse(RunComparison([a, c]).comparable, "another split seed is not comparable")
    }

    /// `compare --json`'s document: per run `per_class` as a list of {class, f1, f1_delta} in class order and
    /// `groups` as name → {accuracy, accuracy_delta, n}, plus settings, cost and results.
    func testComparisonJSONShape() throws {
        let a = try fabricateRun("a", f1: [0.9, 0.3, 0.2, 0.7], groups: ["mono": .init(accuracy: 0.8, n: 20)], accuracy: 0.7)
        let b = try fabricateRun("b", f1: [0.8, 0.5, 0.1, 0.75], groups: ["mono": .init(accuracy: 0.9, n: 20)], accuracy: 0.72)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONLines.encode(RunComparison([a, b]))) as? [String: Any])
        XCTAssertEqual(Set(json.keys), ["runs", "differing", "classes", "groups", "comparable", "seed_groups"])
        let runs = try XCTUnwrap(json["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 2)
        for run in runs {
            XCTAssertEqual(Set(run.keys), ["run", "state", "strategy", "backbone", "dataset", "baseline", "settings", "cost", "results", "per_class", "groups"])
            let perClass = try XCTUnwrap(run["per_class"] as? [[String: Any]])
            XCTAssertEqual(perClass.map { $0["class"] as? String }, Self.elpvClasses)
            XCTAssertTrue(perClass.allSatisfy { Set($0.keys) == ["class", "f1", "f1_delta"] })
            let groups = try XCTUnwrap(run["groups"] as? [String: [String: Any]])
            XCTAssertEqual(Set(groups["mono"]?.keys ?? [:].keys), ["accuracy", "accuracy_delta", "n"])
            XCTAssertNotNil((run["settings"] as? [String: String])?["augmentation"])
            XCTAssertNotNil((run["cost"] as? [String: Any])?["wall_s"])
            XCTAssertNotNil((run["results"] as? [String: Any])?["val_acc"])
        }
        let second = try XCTUnwrap((runs[1]["per_class"] as? [[String: Any]])?[1]["f1_delta"] as? Double)
        XCTAssertEqual(second, 0.2, accuracy: 1e-12)
        XCTAssertEqual((runs[1]["groups"] as? [String: [String: Any]])?["mono"]?["accuracy_delta"] as? Double ?? 0, 0.1, accuracy: 1e-12)
    }

    /// Runs whose configs differ only in the training seed form one group with mean, sample standard deviation,
    /// range and count; another split seed or setting makes another group. `seed_groups` carries them in JSON.
    /// A run that lowered every class's F1 improved none: the sentence must not call the smallest fall a gain.
    func testMoversClauseNeverCallsAFallAnImprovement() {
        XCTAssertEqual(RunComparison.moversClause([("a", -0.02), ("b", -0.25)], digits: 2), "F1 improved on no class, hurt most on b (-0.25)")
        XCTAssertEqual(RunComparison.moversClause([("a", 0.1), ("b", -0.2)], digits: 2), "F1 improved most on a (+0.10), hurt most on b (-0.20)")
        XCTAssertEqual(RunComparison.moversClause([("a", 0.0)], digits: 1), "F1 improved on no class, hurt no class")
        XCTAssertNil(RunComparison.moversClause([], digits: 2))
    }

    func testSeedGroupsMeanAndSpread() throws {
        let a = try fabricateRun("a", f1: [0.9, 0.3, 0.2, 0.7], groups: ["mono": .init(accuracy: 0.8, n: 20)], accuracy: 0.70)
        let b = try fabricateRun("b", f1: [0.8, 0.5, 0.2, 0.7], groups: ["mono": .init(accuracy: 0.9, n: 20)], accuracy: 0.74, configure: { $0.seed = 7 })
        let c = try fabricateRun("c", f1: [0.9, 0.3, 0.2, 0.7], groups: [:], accuracy: 0.9, configure: { $0.split.seed = 3 })
        let cmp = RunComparison([a, b, c])
        XCTAssertTrue(cmp.hasRepeatedSeeds)
        XCTAssertEqual(cmp.seedGroups.map(\.runs), [["a", "b"], ["c"]])
        let g = cmp.seedGroups[0]
        XCTAssertEqual(g.seeds, [0, 7])
        XCTAssertEqual(try XCTUnwrap(g.valAccuracy).mean, 0.72, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(g.valAccuracy).std, (0.0008 as Double).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(g.valAccuracy).n, 2)
        XCTAssertEqual(try XCTUnwrap(g.perClassF1[1].f1).mean, 0.4, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(g.groups["mono"]).min, 0.8)
        XCTAssertEqual(SeedGroup.text(g.valAccuracy, percent: true), "72.0 ± 2.8")
        XCTAssertEqual(SeedGroup.text(cmp.seedGroups[1].valAccuracy, percent: true), "90.0", "one run: no spread")
        XCTAssertFalse(RunComparison([a, c]).hasRepeatedSeeds)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: try JSONLines.encode(cmp)) as? [String: Any])
        let groups = try XCTUnwrap(json["seed_groups"] as? [[String: Any]])
        XCTAssertEqual(groups.first?["runs"] as? [String], ["a", "b"])
        XCTAssertEqual(Set((groups.first?["val_acc"] as? [String: Any])?.keys ?? [:].keys), ["mean", "std", "min", "max", "n"])
    }

    /// A small report worked by hand. g1: truth a,a,b → predicted a,b,b. g2: truth b,b,b,a → predicted a,b,b,a.
    static let report = ValidationReport(epoch: 3, classes: ["a", "b"], samples: [
        .init(index: 0, file: "/x/0.png", truth: 0, prediction: 0, loss: 0.1, group: "g1"),
        .init(index: 1, file: "/x/1.png", truth: 0, prediction: 1, loss: 1.5, group: "g1"),
        .init(index: 2, file: "/x/2.png", truth: 1, prediction: 1, loss: 0.2, group: "g1"),
        .init(index: 3, file: "/x/3.png", truth: 1, prediction: 0, loss: 2.5, group: "g2"),
        .init(index: 4, file: "/x/4.png", truth: 1, prediction: 1, loss: 0.3, group: "g2"),
        .init(index: 5, file: "/x/5.png", truth: 1, prediction: 1, loss: 0.4, group: "g2"),
        .init(index: 6, file: "/x/6.png", truth: 0, prediction: 0, loss: 0.5, group: "g2"),
    ])

    func testPerGroupPrecisionRecallF1ByHand() {
        let groups = Self.report.groupMetrics()
        XCTAssertEqual(groups.map(\.group), ["g1", "g2"])
        let g1 = groups[0].metrics, g2 = groups[1].metrics
        // g1: confusion [[1,1],[0,1]]: precision a 1/1, b 1/2; recall a 1/2, b 1/1; F1 2/3 both.
        XCTAssertEqual(g1.confusion, [[1, 1], [0, 1]])
        XCTAssertEqual(g1.precision, [1, 0.5]); XCTAssertEqual(g1.recall, [0.5, 1])
        XCTAssertEqual(g1.f1[0], 2.0 / 3, accuracy: 1e-12); XCTAssertEqual(g1.f1[1], 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(g1.accuracy, 2.0 / 3, accuracy: 1e-12); XCTAssertEqual(g1.support, [2, 1])
        // g2: confusion [[1,0],[1,2]]: precision a 1/2, b 2/2; recall a 1/1, b 2/3; F1 a 2/3, b 0.8.
        XCTAssertEqual(g2.confusion, [[1, 0], [1, 2]])
        XCTAssertEqual(g2.precision, [0.5, 1]); XCTAssertEqual(g2.recall[0], 1); XCTAssertEqual(g2.recall[1], 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(g2.f1[0], 2.0 / 3, accuracy: 1e-12); XCTAssertEqual(g2.f1[1], 0.8, accuracy: 1e-12)
        XCTAssertEqual(g2.accuracy, 0.75); XCTAssertEqual(g2.support, [1, 3])
        // The whole report: the same numbers the recompute path's ClassificationMetrics gives, loss the mean.
        let all = Self.report.metrics()
        XCTAssertEqual(all.confusion, [[2, 1], [1, 3]])
        XCTAssertEqual(all.loss, 5.5 / 7, accuracy: 1e-12)
        XCTAssertEqual(all.groupAccuracy["g1"]!, 2.0 / 3, accuracy: 1e-12); XCTAssertEqual(all.groupSupport, ["g1": 3, "g2": 4])
        XCTAssertNil(all.binaryAccuracy)
        XCTAssertEqual(Self.report.metrics(positive: { $0 == 1 }).binaryAccuracy, 5.0 / 7)
        XCTAssertNotNil(DatasetConfig(kind: .elpv, path: nil).binaryPositive); XCTAssertNil(DatasetConfig(kind: .folder, path: "/d").binaryPositive)
    }

    func testWorstMistakesAndMostConfusedPairs() {
        XCTAssertEqual(Self.report.worst(1).map(\.index), [3])
        XCTAssertEqual(Self.report.worst(5).map(\.index), [3, 1], "only wrong predictions, highest loss first")
        XCTAssertEqual(Self.report.worst(0), [])
        let m = Self.report.metrics()
        XCTAssertEqual(m.rowNormalizedConfusion, [[2.0 / 3, 1.0 / 3], [0.25, 0.75]])
        // Ties on count break by truth class order.
        XCTAssertEqual(m.mostConfused(), [.init(truth: "a", predicted: "b", count: 1, rate: 1.0 / 3), .init(truth: "b", predicted: "a", count: 1, rate: 0.25)])
        let three = ClassificationMetrics(classNames: ["x", "y", "z"], truth: [0, 0, 0, 1, 2, 2, 2], predictions: [2, 2, 1, 1, 0, 1, 2], loss: 0)
        XCTAssertEqual(three.mostConfused().map { "\($0.truth)>\($0.predicted):\($0.count)" }, ["x>z:2", "x>y:1", "z>x:1", "z>y:1"])
        XCTAssertEqual(three.mostConfused(limit: 1).count, 1)
        XCTAssertEqual(ClassificationMetrics(classNames: ["x", "y"], truth: [0, 1], predictions: [0, 1], loss: 0).mostConfused(), [])
    }

    /// A trained run's validation.json gives the metrics `RunRecords.evaluate` recomputes from its best
    /// checkpoint: the same confusion matrix, per-class and per-group scores, accuracy, and loss up to Float
    /// rounding; `evaluateReport`'s samples are the stored ones.
    func testStoredResultsEqualTheRecomputePath() throws {
        let ws = try makeTestWorkspace(root)
        var rows = ["path,label,group"]
        for cls in ["bright", "dark"] { for i in 0..<24 { rows.append("data/\(cls)/\(i).png,\(cls),\(i % 3 == 0 ? "mono" : "poly")") } }
        let csv = root.appendingPathComponent("manifest.csv")
        try rows.joined(separator: "\n").write(to: csv, atomically: true, encoding: .utf8)
        var c = try workspaceConfig(root)
        c.dataset = DatasetConfig(kind: .csv, path: csv.path)
        c.epochs = 3
        let s = try Experiment.run(c, paths: ws) { _ in }.summary()
        let report = try XCTUnwrap(try RunRecords.validation(s.runPath))
        let stored = report.metrics(positive: c.dataset.binaryPositive)
        let (recomputed, fresh) = try RunRecords.evaluateReport(s.runPath, paths: ws)
        XCTAssertEqual(try RunRecords.evaluate(s.runPath, paths: ws), recomputed)
        XCTAssertEqual(stored.confusion, recomputed.confusion)
        XCTAssertEqual(stored.accuracy, recomputed.accuracy)
        XCTAssertEqual(stored.precision, recomputed.precision); XCTAssertEqual(stored.recall, recomputed.recall); XCTAssertEqual(stored.f1, recomputed.f1)
        XCTAssertEqual(stored.groupAccuracy, recomputed.groupAccuracy); XCTAssertEqual(stored.groupSupport, recomputed.groupSupport)
        XCTAssertEqual(stored.loss, recomputed.loss, accuracy: 1e-4)
        XCTAssertEqual(fresh.epoch, report.epoch)
        XCTAssertEqual(fresh.samples.map(\.file), report.samples.map(\.file))
        XCTAssertEqual(fresh.samples.map(\.prediction), report.samples.map(\.prediction))
        XCTAssertEqual(fresh.samples.map(\.group), report.samples.map(\.group))
        for (a, b) in zip(fresh.samples, report.samples) { XCTAssertEqual(a.loss, b.loss, accuracy: 1e-4) }
        XCTAssertEqual(fresh.groupMetrics().map(\.metrics.confusion), report.groupMetrics().map(\.metrics.confusion))
        let summary = try XCTUnwrap(try RunRecords.summary(s.runPath))
        XCTAssertEqual(summary.perClass.map(\.f1), stored.f1)
    }
}
