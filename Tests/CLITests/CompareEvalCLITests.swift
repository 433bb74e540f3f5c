import XCTest
import Engine
import Foundation

/// `tlab compare` and `tlab eval` on run folders written by hand (no training, no weights): classes in the
/// dataset's order, long class names apart from the numbers, the Δ column, `compare --json`'s shape, and
/// eval's stored results with `--worst` and `--most-confused`.
extension CLITests {
    static let longClass = "a-class-name-much-longer-than-any-column-was"

    /// A run folder: config.json, a log (`started`, one `epoch`, `summary` when finished) and validation.json.
    func writeRun(_ runs: String, _ name: String, classes: [String], f1: [Double], accuracy: Double, samples: [ValidationSample] = [],
                  configure: (inout ExperimentConfig) -> Void = { _ in }) throws {
        let path = runs + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var c = ExperimentConfig.preset(.featureExtraction, backbone: "resnet18", dataset: DatasetConfig(kind: .folder, path: "/data/cells"))
        configure(&c)
        try c.encoded().write(to: URL(fileURLWithPath: path + "/config.json"))
        let scores = zip(classes, f1).map { TrainingEvent.ClassScore(name: $0, precision: $1, recall: $1, f1: $1, support: 5) }
        let events: [TrainingEvent] = [
            .started(.init(run: name, strategy: "feature-extraction", backbone: "resnet18", dataset: "cells", train: 20, validation: 20,
                           classes: classes, groups: ["mono", "poly"], batchNorm: [:], skippedFiles: 0, pid: 1)),
            .epoch(.init(epoch: 1, epochs: c.epochs, step: 4, trainLoss: 1, trainAccuracy: 0.5, valLoss: 0.5, valAccuracy: accuracy, perClass: scores,
                         groups: ["mono": .init(accuracy: accuracy, n: 10), "poly": .init(accuracy: accuracy - 0.1, n: 10)],
                         elapsedSeconds: 12, epochSeconds: 12, imagesPerSecond: 40)),
            .summary(.init(run: name, valAccuracy: accuracy, valBinaryAccuracy: nil, bestEpoch: 1, epochs: 1, wallSeconds: 12)),
        ]
        try (events.map { try JSONLines.string($0) }.joined(separator: "\n") + "\n").write(toFile: path + "/metrics.jsonl", atomically: true, encoding: .utf8)
        if !samples.isEmpty {
            try JSONLines.encode(ValidationReport(epoch: 1, classes: classes, samples: samples)).write(to: URL(fileURLWithPath: path + "/validation.json"))
        }
    }

    func testCompareKeepsClassOrderSeparatesLongNamesAndShowsDifferencesAndJSON() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-cli-compare-\(getpid())")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let runs = tmp.appendingPathComponent("runs").path
        let classes = ["p=0", "p=1/3", "p=2/3", "p=1", Self.longClass]
        try writeRun(runs, "20261124T100000-base", classes: classes, f1: [0.9, 0.3, 0.2, 0.7, 0.5], accuracy: 0.70)
        try writeRun(runs, "20261124T110000-tuned", classes: classes, f1: [0.8, 0.5, 0.15, 0.75, 0.5], accuracy: 0.75) { c in
            c.groups["final"] = .trained(1e-4, batchNorm: .frozen); c.augmentation.verticalFlip = true
        }
        let text = try run(["compare", "20261124T100000", "20261124T110000", "--runs", runs])
        XCTAssertEqual(text.status, 0, text.err)
        let lines = text.out.split(separator: "\n").map(String.init)
        let f1Rows = lines.filter { $0.hasPrefix("F1 ") }
        XCTAssertEqual(f1Rows.map { String($0.split(separator: " ")[1]) }, classes, "dataset order, not text order: \(text.out)")
        // Long class names end before the numbers start, with at least two spaces, and every row's numbers line up.
        let long = try XCTUnwrap(f1Rows.last)
        XCTAssertTrue(long.contains("F1 \(Self.longClass)  "), long)
        let column = try XCTUnwrap(f1Rows.first?.range(of: "0.900")).lowerBound.utf16Offset(in: f1Rows[0])
        XCTAssertEqual(long.range(of: "0.500")?.lowerBound.utf16Offset(in: long), column, text.out)
        // The Δ column: the tuned run minus the baseline.
        XCTAssertTrue(lines[0].hasSuffix("Δ") && lines[0].contains("(baseline)"), lines[0])
        XCTAssertTrue(f1Rows[0].hasSuffix("-0.100") && f1Rows[1].hasSuffix("+0.200") && f1Rows[4].hasSuffix("+0.000"), f1Rows.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.hasPrefix("val acc (best epoch)") && $0.hasSuffix("+5.0 pp") }, text.out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("final lr") && $0.contains("frozen") && $0.contains("0.0001") }, text.out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("augmentation") && $0.contains("flips v") }, text.out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("acc mono") }, text.out)
        XCTAssertTrue(text.out.contains("improved most on p=1/3 (+0.200), hurt most on p=0 (-0.100)"), text.out)
        XCTAssertFalse(text.out.contains("warning"), text.out)

        let json = try run(["compare", "20261124T100000", "20261124T110000", "--runs", runs, "--json"])
        XCTAssertEqual(json.status, 0, json.err)
        XCTAssertEqual(json.out.split(separator: "\n").count, 1, "one JSON document")
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        XCTAssertEqual(doc["classes"] as? [String], classes)
        let perRun = try XCTUnwrap(doc["runs"] as? [[String: Any]])
        for r in perRun {
            let perClass = try XCTUnwrap(r["per_class"] as? [[String: Any]])
            XCTAssertEqual(perClass.map { $0["class"] as? String }, classes)
            XCTAssertTrue(perClass.allSatisfy { Set($0.keys) == ["class", "f1", "f1_delta"] })
            let groups = try XCTUnwrap(r["groups"] as? [String: [String: Any]])
            XCTAssertEqual(Set(groups.keys), ["mono", "poly"])
            XCTAssertTrue(groups.values.allSatisfy { Set($0.keys) == ["accuracy", "accuracy_delta", "n"] })
        }
        XCTAssertEqual((perRun[1]["per_class"] as? [[String: Any]])?[1]["f1_delta"] as? Double ?? 0, 0.2, accuracy: 1e-9)

        // Another split seed: flagged.
        try writeRun(runs, "20261124T120000-seed", classes: classes, f1: [0.9, 0.3, 0.2, 0.7, 0.5], accuracy: 0.7) { $0.split.seed = 7 }
        let other = try run(["compare", "20261124T100000", "20261124T120000", "--runs", runs])
        XCTAssertTrue(other.out.hasPrefix("warning:") && other.out.contains("not comparable"), other.out)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(try run(["compare", "20261124T100000", "20261124T120000", "--runs", runs, "--json"]).out.utf8))
                        as? [String: Any])?["comparable"] as? Bool, false)
    }

    func testEvalShowsStoredResultsWorstMistakesAndMostConfusedPairs() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-cli-eval-\(getpid())")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let runs = tmp.appendingPathComponent("runs").path
        let classes = ["p=0", "p=1/3", "p=1"]
        // truth → predicted: p=0→p=0 ×2, p=0→p=1/3, p=1/3→p=0 ×2, p=1/3→p=1/3, p=1→p=1/3, p=1→p=1.
        let outcomes: [(Int, Int, Double, String)] = [(0, 0, 0.1, "mono"), (0, 0, 0.2, "poly"), (0, 1, 1.2, "mono"), (1, 0, 2.0, "poly"),
                                                      (1, 0, 0.9, "poly"), (1, 1, 0.3, "mono"), (2, 1, 3.0, "poly"), (2, 2, 0.4, "mono")]
        let samples = outcomes.enumerated().map { i, o in
            ValidationSample(index: i, file: "/cells/img\(i).png", truth: o.0, prediction: o.1, loss: o.2, probabilities: [0.2, 0.3, 0.5], group: o.3)
        }
        try writeRun(runs, "20261124T100000-eval", classes: classes, f1: [0.5, 0.3, 0.6], accuracy: 0.5, samples: samples)
        let start = Date()
        let out = try run(["eval", "20261124T100000", "--runs", runs, "--worst", "2", "--most-confused"])
        XCTAssertEqual(out.status, 0, out.err)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5, "stored results are read, not recomputed")
        XCTAssertTrue(out.out.contains("val acc 50.0 %") && out.out.contains("stored results of epoch 1"), out.out)
        XCTAssertTrue(out.out.contains("row-normalised"), out.out)
        let lines = out.out.split(separator: "\n").map(String.init)
        // Row-normalised: p=1/3's row is 2/3 p=0, 1/3 p=1/3.
        XCTAssertTrue(lines.contains { $0.hasPrefix("p=1/3") && $0.contains("66.7") && $0.contains("33.3") }, out.out)
        let worst = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("worst 2 wrong predictions") })
        XCTAssertTrue(lines[worst + 2].hasPrefix("/cells/img6.png") && lines[worst + 2].hasSuffix("3.0000") && lines[worst + 2].contains("p=1  "), out.out)
        XCTAssertTrue(lines[worst + 3].hasPrefix("/cells/img3.png") && lines[worst + 3].hasSuffix("2.0000"), out.out)
        let confused = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("most confused") })
        XCTAssertEqual(lines[(confused + 2)...(confused + 4)].map { $0.split(separator: " ").prefix(3).joined(separator: " ") },
                       ["p=1/3 p=0 2", "p=0 p=1/3 1", "p=1 p=1/3 1"], out.out)
        XCTAssertTrue(out.out.contains("per group") && out.out.contains("mono (acc 75.0 %)") && out.out.contains("poly (acc 25.0 %)"), out.out)
        XCTAssertTrue(out.out.contains("gap between groups: 50.0 pp"), out.out)

        let json = try run(["eval", "20261124T100000", "--runs", runs, "--json", "--worst", "1", "--most-confused"])
        XCTAssertEqual(json.status, 0, json.err)
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any])
        XCTAssertEqual(doc["source"] as? String, "stored")
        XCTAssertEqual(doc["confusion"] as? [[Int]], [[2, 1, 0], [2, 1, 0], [0, 1, 1]])
        XCTAssertEqual((doc["worst"] as? [[String: Any]])?.map { $0["file"] as? String }, ["/cells/img6.png"])
        XCTAssertEqual((doc["most_confused"] as? [[String: Any]])?.first?["count"] as? Int, 2)
        let mono = try XCTUnwrap((doc["groups"] as? [String: [String: Any]])?["mono"])
        XCTAssertEqual(mono["n"] as? Int, 4)
        // mono: p=0→p=0, p=0→p=1/3, p=1/3→p=1/3, p=1→p=1: p=0 precision 1/1, recall 1/2; p=1/3 precision 1/2, recall 1.
        let monoScores = try XCTUnwrap(mono["per_class"] as? [[String: Any]])
        XCTAssertEqual(monoScores[0]["precision"] as? Double, 1); XCTAssertEqual(monoScores[0]["recall"] as? Double, 0.5)
        XCTAssertEqual(monoScores[1]["precision"] as? Double, 0.5); XCTAssertEqual(monoScores[1]["recall"] as? Double, 1)

        XCTAssertNotEqual(try run(["eval", "20261124T100000", "--runs", runs, "--worst", "0"]).status, 0)
        // Without validation.json and without a checkpoint there is nothing to show: a clear error.
        try FileManager.default.removeItem(atPath: runs + "/20261124T100000-eval/validation.json")
        let none = try run(["eval", "20261124T100000", "--runs", runs])
        XCTAssertNotEqual(none.status, 0); XCTAssertTrue(none.err.contains("no validation results yet"), none.err)
    }
}
