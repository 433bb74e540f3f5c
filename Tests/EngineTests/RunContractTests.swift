import XCTest
import Engine
import ImageData
import Kernels

/// The run as a typed contract: events round-trip through their JSON lines, the reader tails and folds a log,
/// every run ends with exactly one terminal event, and epoch events carry what `tlab eval` computes.
final class RunContractTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-contract-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    static let sample = ValidationSample(index: 3, file: "/data/a\"b\n\u{1}.png", truth: 1, prediction: 0, loss: 2.5, probabilities: [0.9, 0.1], group: "mono")
    static let everyEvent: [TrainingEvent] = [
        .started(.init(run: "20261124T080000-x", strategy: "fine-tuning", backbone: "resnet18", dataset: "elpv", train: 10, validation: 4,
                       classes: ["p=0", "p=1"], groups: ["mono", "poly"], batchNorm: ["early": "frozen"], skippedFiles: 2, pid: 42)),
        .progress(.init(phase: "features", done: 64, total: 2624, imagesPerSecond: 41.5, etaSeconds: 61.7)),
        .featuresReady(.init(cacheHit: true, seconds: 0.25)),
        .resumed(.init(epoch: 2, step: 6, epochStep: 2)),
        .step(.init(epoch: 2, step: 7, epochStep: 3, stepsPerEpoch: 4, loss: 0.6931, imagesPerSecond: 16.8, etaSeconds: 372,
                    learningRates: ["head": 0.0003, "final": 3e-5])),
        .step(.init(epoch: 2, step: 8, epochStep: 4, stepsPerEpoch: 4, loss: .nan, imagesPerSecond: .infinity, etaSeconds: 0, learningRates: [:])),
        .epoch(.init(epoch: 2, epochs: 8, step: 8, trainLoss: 0.5, trainAccuracy: 0.75, valLoss: 0.4, valAccuracy: 0.8, valBinaryAccuracy: 0.9,
                     perClass: [.init(name: "p=0", precision: 1, recall: 0.5, f1: 2.0 / 3, support: 2)], confusion: [[1, 1], [0, 2]],
                     groups: ["mono": .init(accuracy: 0.5, n: 2)], learningRates: ["head": 1e-3], trainableGroups: ["final"],
                     elapsedSeconds: 12.5, epochSeconds: 6, imagesPerSecond: 20, worst: [sample.brief])),
        .unfroze(.init(epoch: 4, groups: ["intermediate"], trainableGroups: ["intermediate", "final"])),
        .checkpoint(.init(name: "best", epoch: 2)),
        .paused(.init(epoch: 3, step: 9, epochStep: 1)),
        .continued(.init(epoch: 3, step: 9, epochStep: 1)),
        .stopped(.init(epoch: 3, step: 10, epochStep: 2)),
        .earlyStop(.init(epoch: 7, bestEpoch: 4)),
        .failed(.init(reason: "cell0001.png: not a PNG file", epoch: 2, resumable: false)),
        .summary(.init(run: "r", valAccuracy: 0.762, valBinaryAccuracy: nil, bestEpoch: 7, epochs: 8, wallSeconds: 86.25)),
    ]

    func testEveryEventRoundTripsThroughItsJSONLine() throws {
        for event in Self.everyEvent {
            let line = event.jsonLine
            XCTAssertFalse(line.contains("\n"), "one line per event: \(line)")
            let back = try JSONLines.decoder().decode(TrainingEvent.self, from: Data(line.utf8))
            if case .step(let s) = event, s.loss.isNaN {
                guard case .step(let b) = back else { return XCTFail(line) }
                XCTAssertTrue(b.loss.isNaN, "a NaN loss is recorded, not a crash: \(line)")
                XCTAssertEqual(b.imagesPerSecond, .infinity)
            } else {
                XCTAssertEqual(back, event, line)
            }
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(object["event"] as? String, event.name)
        }
        // Numbers print as written, not widened from Float.
        XCTAssertTrue(Self.everyEvent[4].jsonLine.contains(#""head":0.0003"#), Self.everyEvent[4].jsonLine)
        XCTAssertEqual(JSONLines.decimal(Float(3e-4)), 0.0003)
        // The position fields mean the same in every event that has them.
        let step = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(Self.everyEvent[4].jsonLine.utf8)) as? [String: Any])
        XCTAssertEqual(step["epoch"] as? Int, 2); XCTAssertEqual(step["step"] as? Int, 7); XCTAssertEqual(step["epoch_step"] as? Int, 3)
    }

    func testTheReaderRefusesALogOfANewerFormatAndNamesTheBadLine() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let log = root.appendingPathComponent("metrics.jsonl")
        var start = Self.everyEvent[0]
        if case .started(var s) = start { s.version = TrainingEvent.formatVersion + 1; start = .started(s) }
        try Data((start.jsonLine + "\n").utf8).write(to: log)
        XCTAssertThrowsError(try RunLogReader(run: log.path).poll()) { XCTAssertTrue("\($0)".contains("newer tlab"), "\($0)") }
        try Data("{\"event\":\"step\"}\n".utf8).write(to: log)
        XCTAssertThrowsError(try RunLogReader(run: log.path).poll()) { XCTAssertTrue("\($0)".contains("line 1"), "\($0)") }
    }

    /// Bytes arrive in arbitrary pieces (a writer mid-line): the reader yields only whole events, reads only what
    /// is new, and folds a resume's repeated epochs and steps (the last copy wins).
    func testTheReaderTailsIncrementallyHoldsBackATornLineAndFoldsAResume() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let log = root.appendingPathComponent("metrics.jsonl")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        func epoch(_ n: Int, valLoss: Double) -> TrainingEvent { .epoch(.init(epoch: n, epochs: 3, step: 2 * n, trainLoss: 1, trainAccuracy: 0.5, valLoss: valLoss, valAccuracy: 0.5)) }
        func step(_ global: Int, loss: Double) -> TrainingEvent {
            .step(.init(epoch: (global + 1) / 2, step: global, epochStep: (global - 1) % 2 + 1, stepsPerEpoch: 2, loss: loss, imagesPerSecond: 1, etaSeconds: 1, learningRates: [:]))
        }
        let events: [TrainingEvent] = [
            Self.everyEvent[0], step(1, loss: 1), step(2, loss: 0.9), epoch(1, valLoss: 0.8), step(3, loss: 0.7), epoch(2, valLoss: 0.9),
            step(5, loss: 0.66), .stopped(.init(epoch: 3, step: 5, epochStep: 1)),
            // Resumed from the end of epoch 1: epoch 2 and its steps come again, with other numbers.
            .resumed(.init(epoch: 2, step: 2, epochStep: 0)), step(3, loss: 0.5), step(4, loss: 0.4), epoch(2, valLoss: 0.6),
            step(5, loss: 0.3), step(6, loss: 0.2), epoch(3, valLoss: 0.7),
            .summary(.init(run: "r", valAccuracy: 0.5, valBinaryAccuracy: nil, bestEpoch: 2, epochs: 3, wallSeconds: 1)),
        ]
        let bytes = Data(events.map { $0.jsonLine + "\n" }.joined().utf8)
        let reader = RunLogReader(run: log.path)
        let handle = try FileHandle(forWritingTo: log)
        var seen: [TrainingEvent] = [], cut = 0, g = SeededGenerator(seed: 7)
        while cut < bytes.count {
            let next = min(bytes.count, cut + 1 + Int(g.nextFloat() * 150))
            try handle.write(contentsOf: bytes[cut..<next])
            cut = next
            let before = reader.offset
            seen += try reader.poll()
            XCTAssertEqual(reader.offset, UInt64(cut), "reads exactly the new bytes")
            XCTAssertGreaterThanOrEqual(reader.offset, before)
        }
        try handle.close()
        XCTAssertEqual(seen.count, events.count)
        XCTAssertEqual(seen.map(\.name), events.map(\.name))
        XCTAssertEqual(try reader.poll(), [], "nothing new")
        let h = reader.history
        XCTAssertEqual(h.epochs.map(\.epoch), [1, 2, 3])
        XCTAssertEqual(h.epochs.map(\.valLoss), [0.8, 0.6, 0.7], "the resumed copy of epoch 2 wins")
        XCTAssertEqual(h.stepLosses.map(\.step), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(h.stepLosses.map(\.loss), [1, 0.9, 0.5, 0.4, 0.3, 0.2])
        XCTAssertEqual(h.bestEpoch?.epoch, 2)
        XCTAssertTrue(h.isFinished)
        XCTAssertEqual(h.resumes, 1)
        // A file that shrank (a resume cut its torn last line) is read again from the start.
        try Data((events[0].jsonLine + "\n").utf8).write(to: log)
        XCTAssertEqual(try reader.poll().map(\.name), ["started"])
        XCTAssertEqual(reader.history.epochs, [])
    }

    /// A 3-class CSV dataset with subgroups, fine-tuned: an epoch event's per-class and per-group numbers equal
    /// what `tlab eval` computes from the best checkpoint of that epoch; validation.json has absolute paths and
    /// subgroups; summary.json reads back typed.
    func testEpochEventsCarryPerClassAndPerGroupNumbersEqualToEval() throws {
        var ws = try makeTestWorkspace(root)
        ws.cacheFrozenPrefix = true
        var rows = ["path,label,group"]
        for cls in ["bright", "dark"] {
            for i in 0..<24 {
                let label = cls == "dark" ? "dark" : (i % 2 == 0 ? "bright-even" : "bright-odd")
                rows.append("data/\(cls)/\(i).png,\(label),\(i % 3 == 0 ? "mono" : "poly")")
            }
        }
        let csv = root.appendingPathComponent("manifest.csv")
        try rows.joined(separator: "\n").write(to: csv, atomically: true, encoding: .utf8)
        var c = try workspaceConfig(root)
        c.dataset = DatasetConfig(kind: .csv, path: csv.path)
        c.groups["final"] = .trained(1e-3, batchNorm: .frozen)
        c.epochs = 3
        var events: [TrainingEvent] = []
        let s = try Experiment.run(c, paths: ws) { events.append($0) }.summary()
        let epochs = events.compactMap { if case .epoch(let e) = $0 { e } else { nil } }
        XCTAssertEqual(epochs.count, 3)
        let best = try XCTUnwrap(epochs.first { $0.epoch == s.bestEpoch })
        XCTAssertEqual(best.perClass.map(\.name), ["bright-even", "bright-odd", "dark"])
        XCTAssertEqual(Set(best.groups.keys), ["mono", "poly"])
        XCTAssertEqual(best.groups.values.reduce(0) { $0 + $1.n }, best.perClass.reduce(0) { $0 + $1.support })
        XCTAssertTrue((0...1).contains(best.trainAccuracy))
        XCTAssertNotNil(best.confusion)
        let eval = try RunRecords.evaluate(s.runPath, paths: ws)
        XCTAssertEqual(best.confusion, eval.confusion)
        for (a, b) in zip(best.perClass, eval.classScores) {
            XCTAssertEqual(a.name, b.name); XCTAssertEqual(a.support, b.support)
            XCTAssertEqual(a.precision, b.precision, accuracy: 1e-9); XCTAssertEqual(a.recall, b.recall, accuracy: 1e-9); XCTAssertEqual(a.f1, b.f1, accuracy: 1e-9)
        }
        XCTAssertEqual(best.groups, eval.groupScores)

        let report = try XCTUnwrap(try RunRecords.validation(s.runPath))
        XCTAssertEqual(report.epoch, s.bestEpoch)
        XCTAssertTrue(report.samples.allSatisfy { $0.file.hasPrefix("/") && FileManager.default.fileExists(atPath: $0.file) })
        XCTAssertTrue(report.samples.allSatisfy { $0.group != nil && $0.probabilities?.count == 3 })
        let summary = try XCTUnwrap(try RunRecords.summary(s.runPath))
        XCTAssertEqual(summary.perClass.map(\.name), best.perClass.map(\.name))
        XCTAssertEqual(summary.bestEpoch, s.bestEpoch)
        let overview = try RunOverview.load(s.runPath)
        XCTAssertEqual(overview.state, .finished)
        XCTAssertEqual(overview.history.epochs.count, 3)
    }

    /// An image that cannot be decoded from epoch 2 on (replaced after epoch 1): the run ends with exactly one
    /// `failed` event naming the file, and its folder reads as failed — not killed, not resumable.
    func testARunThatThrowsEndsWithOneFailedEventNamingTheFile() throws {
        let ws = try makeTestWorkspace(root)
        var c = try workspaceConfig(root)
        c.groups["final"] = .trained(1e-3, batchNorm: .frozen)
        c.augmentation = AugmentationConfig(horizontalFlip: true)  // images are read every epoch
        c.epochs = 3
        let bad = root.appendingPathComponent("data/dark/5.png").path
        var events: [TrainingEvent] = []
        XCTAssertThrowsError(try Experiment.run(c, paths: ws) { e in
            events.append(e)
            if case .epoch(let x) = e, x.epoch == 1 { try! Data("not a png".utf8).write(to: URL(fileURLWithPath: bad)) }
        }) { XCTAssertTrue("\($0)".contains(bad), "\($0)") }
        let run = try XCTUnwrap(RunRecords.list(root: ws.runs).first)
        let history = try RunLogReader.history(of: run)
        let terminal = try String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .filter { $0.contains(#""event":"failed""#) || $0.contains(#""event":"stopped""#) || $0.contains(#""event":"summary""#) }
        XCTAssertEqual(terminal.count, 1, "exactly one terminal event")
        guard case .failed(let f) = history.ending else { return XCTFail("the log ends with failed") }
        XCTAssertTrue(f.reason.contains(bad), f.reason)
        XCTAssertEqual(f.epoch, 2)
        XCTAssertEqual(RunRecords.state(run), .failed(f.reason, resumable: false))
        XCTAssertFalse(RunRecords.state(run).canResume)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run + "/owner.pid"))
        XCTAssertEqual(events.filter(\.isTerminal).count, 1)
    }

    /// A pid recorded with another process's start time (the pid was reused) is not a live owner.
    func testLivenessSurvivesPidReuse() throws {
        let run = root.appendingPathComponent("run").path
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        try "\(getpid())".write(toFile: run + "/owner.pid", atomically: true, encoding: .utf8)
        XCTAssertTrue(RunOwner.isAlive(run), "this process is alive")
        try "\(getpid()) 1\n".write(toFile: run + "/owner.pid", atomically: true, encoding: .utf8)
        XCTAssertFalse(RunOwner.isAlive(run), "same pid, other start time: a different process")
        XCTAssertEqual(RunRecords.state(run, history: RunHistory()), .interrupted)
    }

    /// Two runs of one config started in the same second get two folders.
    func testRunsStartedTogetherNeverShareAFolder() throws {
        let ws = try makeTestWorkspace(root)
        var c = try workspaceConfig(root)
        c.epochs = 1
        let ids = try (0..<4).map { _ in try RunFolder(root: ws.runs, config: c).id }
        XCTAssertEqual(Set(ids).count, 4, "\(ids)")
    }
}
