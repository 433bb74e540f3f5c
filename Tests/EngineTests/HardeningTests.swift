import XCTest
import Backbones
import Engine
import ImageData
import Kernels
import WeightsIO

/// Issue 9: nothing lost, nothing silently wrong — run folders, resume at every phase, recorded splits,
/// config ranges, and failures that end with `failed`.
final class HardeningTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-hardening-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    /// Fine-tuning the final group on images (step events, so a stop can land anywhere), two epochs.
    func fineTuneConfig() throws -> ExperimentConfig {
        var c = try workspaceConfig(root)
        c.name = "phases"
        c.groups["final"] = .trained(1e-3, batchNorm: .frozen)
        c.epochs = 2
        return c
    }

    func epochs(_ run: String) throws -> [TrainingEvent.Epoch] {
        try RunLogReader.history(of: run).epochs.map { e in
            var e = e; e.elapsedSeconds = 0; e.epochSeconds = 0; e.imagesPerSecond = 0; return e
        }
    }

    /// Item 2: a stop that lands mid-step, during the last step, during validation, during the checkpoint write
    /// or between epochs: the resumed run ends exactly as the uninterrupted one (the next epoch's shuffle must not
    /// be saved before the stop).
    func testAStopAtEveryPhaseResumesToTheUninterruptedRun() throws {
        var ws = try makeTestWorkspace(root)
        ws.cacheFrozenPrefix = false
        let c = try fineTuneConfig()
        var stepsPerEpoch = 0
        let reference = try Experiment.run(c, paths: ws) { if case .step(let s) = $0 { stepsPerEpoch = s.stepsPerEpoch } }.summary()
        XCTAssertGreaterThan(stepsPerEpoch, 2)
        let phases: [(String, (TrainingEvent) -> Bool)] = [
            ("mid-step", { if case .step(let s) = $0 { s.epoch == 1 && s.epochStep == 2 } else { false } }),
            ("last step", { if case .step(let s) = $0 { s.epoch == 1 && s.epochStep == stepsPerEpoch } else { false } }),
            ("validation", { if case .epoch(let e) = $0 { e.epoch == 1 } else { false } }),
            ("checkpoint write", { if case .checkpoint(let k) = $0 { k.name == "last" && k.epoch == 1 } else { false } }),
            ("between epochs", { if case .checkpoint(let k) = $0 { k.name == "best" && k.epoch == 1 } else { false } }),
        ]
        for (phase, when) in phases {
            let control = TrainingControl()
            let stopped = try Experiment.run(c, paths: ws, control: control) { if when($0) { control.stop() } }
            guard case .stopped(_, let path, _) = stopped else { return XCTFail("\(phase): the run should have stopped") }
            let resumed = try Experiment.resume(path, paths: ws).summary()
            XCTAssertEqual(try epochs(path), try epochs(reference.runPath), "\(phase): the resumed run's epochs equal the uninterrupted run's")
            XCTAssertEqual(resumed.last, reference.last, phase)
        }
    }

    /// Item 1: 8 threads create run folders of one config at once, 20 times: never the same folder twice.
    func testEightConcurrentRunFolderCreationsTwentyTimesNeverShareAFolder() throws {
        let ws = try makeTestWorkspace(root)
        let c = try workspaceConfig(root)
        for round in 0..<20 {
            var ids = [String](repeating: "", count: 8)
            let lock = NSLock()
            DispatchQueue.concurrentPerform(iterations: 8) { i in
                let id = (try? RunFolder(root: ws.runs, config: c).id) ?? "failed \(i)"
                lock.lock(); ids[i] = id; lock.unlock()
            }
            XCTAssertEqual(Set(ids).count, 8, "round \(round): \(ids)")
        }
    }

    /// Item 1: a second resume of a run that is training is refused naming the owner, and writes nothing into
    /// the live run's log (it used to append a `failed` event to it).
    func testASecondResumeIsRefusedNamingTheOwnerAndLeavesTheLogAlone() throws {
        let ws = try makeTestWorkspace(root)
        var c = try fineTuneConfig()
        c.epochs = 2
        let control = TrainingControl()
        let stopped = try Experiment.run(c, paths: ws, control: control) { if case .step = $0 { control.stop() } }
        guard case .stopped(_, let path, _) = stopped else { return XCTFail("the run should have stopped") }
        var refusal: String?
        let resumed = try Experiment.resume(path, paths: ws) { e in
            guard refusal == nil, case .step = e else { return }
            do { _ = try Experiment.resume(path, paths: ws); refusal = "no error" } catch { refusal = "\(error)" }
        }.summary()
        XCTAssertTrue(refusal?.contains("process \(getpid())") ?? false, refusal ?? "no second resume attempted")
        let log = try String(contentsOfFile: path + "/metrics.jsonl", encoding: .utf8)
        XCTAssertFalse(log.contains(#""event":"failed""#), "the refused resume logged nothing")
        XCTAssertEqual(RunRecords.state(path), .finished)
        XCTAssertEqual(resumed.epochs, 2)
    }

    /// Item 12: a checkpoint temporary of a process killed mid-write is removed on resume.
    func testResumeRemovesCheckpointTemporariesOfDeadProcesses() throws {
        let ws = try makeTestWorkspace(root)
        let control = TrainingControl()
        var c = try fineTuneConfig(); c.epochs = 1
        let stopped = try Experiment.run(c, paths: ws, control: control) { if case .step = $0 { control.stop() } }
        guard case .stopped(_, let path, _) = stopped else { return XCTFail("the run should have stopped") }
        let stale = path + "/checkpoints/last.safetensors.tmp-999999999"
        try Data("half a checkpoint".utf8).write(to: URL(fileURLWithPath: stale))
        _ = try Experiment.resume(path, paths: ws).summary()
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path + "/checkpoints").sorted(), ["best.safetensors", "last.safetensors"])
    }

    /// Item 3: eval uses the recorded split and says when images were added or changed; resume refuses changed content.
    func testEvalUsesTheRecordedSplitAndSaysWhenTheDataChanged() throws {
        let ws = try makeTestWorkspace(root)
        var c = try workspaceConfig(root)
        c.epochs = 2
        let control = TrainingControl()
        let stopped = try Experiment.run(c, paths: ws, control: control) { if case .epoch = $0 { control.stop() } }
        guard case .stopped(_, let path, _) = stopped else { return XCTFail("the run should have stopped") }
        let split = try RunRecords.split(path)
        XCTAssertEqual(split.hashes?.count, split.files.count, "split.json records every file's content hash")
        var notes: [String] = []
        let before = try RunRecords.evaluate(path, paths: ws, note: { notes.append($0) })
        XCTAssertEqual(notes, [], "nothing changed")
        XCTAssertEqual(before.support.reduce(0, +), split.validation.count)
        // More images, and one of the run's own changed under the same name.
        let extra = try PNGCodec.encode(width: 32, height: 32, layout: .gray8, samples: [UInt8](repeating: 200, count: 1024))
        for i in 100..<106 { try Data(extra).write(to: root.appendingPathComponent("data/bright/\(i).png")) }
        let changed = split.files[split.validation[0]]
        try Data(extra).write(to: URL(fileURLWithPath: changed))
        let after = try RunRecords.evaluate(path, paths: ws, note: { notes.append($0) })
        XCTAssertEqual(after.support.reduce(0, +), split.validation.count, "the recorded validation images, not a new split")
        XCTAssertTrue(notes.contains { $0.contains("6 images added") }, "\(notes)")
        XCTAssertTrue(notes.contains { $0.contains("changed") && $0.contains(changed) }, "\(notes)")
        XCTAssertThrowsError(try Experiment.resume(path, paths: ws)) { XCTAssertTrue("\($0)".contains("added"), "\($0)") }
        for i in 100..<106 { try FileManager.default.removeItem(at: root.appendingPathComponent("data/bright/\(i).png")) }
        XCTAssertThrowsError(try Experiment.resume(path, paths: ws)) { XCTAssertTrue("\($0)".contains("changed") && "\($0)".contains(changed), "\($0)") }
        // Runs recorded before hashes existed stay readable.
        var old = split; old.hashes = nil
        let decoded = try JSONLines.decoder().decode(RunSplit.self, from: try JSONLines.encoder().encode(old))
        XCTAssertNil(decoded.hashes)
    }

    /// Items 5 and 14: numeric ranges that made training silently wrong, memory-driving sizes, names with line breaks.
    func testConfigRangesAreCheckedNamingTheField() throws {
        let base = try workspaceConfig(root)
        let cases: [(String, (inout ExperimentConfig) -> Void)] = [
            ("schedule.step.gamma", { $0.schedule = .step(every: 2, gamma: -0.5) }),
            ("schedule.step.every", { $0.schedule = .step(every: 0, gamma: 0.5) }),
            ("schedule.cosine.minFactor", { $0.schedule = .cosine(warmupSteps: 0, minFactor: -1) }),
            ("schedule.cosine.warmupSteps", { $0.schedule = .cosine(warmupSteps: -3, minFactor: 0) }),
            ("schedule.oneCycle.pctStart", { $0.schedule = .oneCycle(pctStart: 1.5, divFactor: 25, finalDivFactor: 1e4) }),
            ("momentum", { $0.optimizer = .sgd; $0.momentum = 1 }),
            ("momentum", { $0.momentum = -0.1 }),
            ("batchSize", { $0.batchSize = 100_000_000 }),
            ("head.hidden", { $0.head.kind = .mlp; $0.head.hidden = 1 << 40 }),
            ("name", { $0.name = "two\nlines" }),
        ]
        for (field, change) in cases {
            var c = base
            change(&c)
            XCTAssertThrowsError(try c.validate(knownBackbones: Backbones.names), field) {
                XCTAssertTrue("\($0)".contains("`\(field)`"), "\(field): \($0)")
            }
        }
        var fine = base
        fine.schedule = .step(every: 2, gamma: 0.5); fine.momentum = 0; fine.batchSize = 256
        fine.head.kind = .mlp; fine.head.hidden = 4096
        XCTAssertNoThrow(try fine.validate(knownBackbones: Backbones.names))
    }

    /// Item 7: a validation fraction that leaves no training image is refused with the counts, before a folder exists.
    func testASplitLeavingNoTrainingImagesIsRefusedWithTheCounts() throws {
        let ws = try makeTestWorkspace(root)
        var c = try workspaceConfig(root)
        c.split.validationFraction = 0.99
        XCTAssertThrowsError(try Experiment.run(c, paths: ws)) {
            XCTAssertTrue("\($0)".contains("split.validationFraction") && "\($0)".contains("0 for training") && "\($0)".contains("48 images"), "\($0)")
        }
        XCTAssertEqual(RunRecords.list(root: ws.runs), [])
    }

    /// Item 10: missing weights end the run with `failed` (not listed as interrupted); the cache being
    /// unwritable (item 11) only warns.
    func testMissingWeightsFailAndAnUnwritableCacheOnlyWarns() throws {
        var ws = try makeTestWorkspace(root)
        let c = try workspaceConfig(root)
        // The cache "folder" is a file: nothing can be stored, the run goes on.
        let blocker = root.appendingPathComponent("cache-file").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        ws.cache = blocker
        var short = c; short.epochs = 2
        XCTAssertNoThrow(try Experiment.run(short, paths: ws).summary())
        // Missing weights.
        ws.weights = root.appendingPathComponent("no-weights").path
        XCTAssertThrowsError(try Experiment.run(short, paths: ws))
        let failed = try XCTUnwrap(RunRecords.list(root: ws.runs).first { RunRecords.state($0) != .finished })
        guard case .failed(let reason, resumable: false) = RunRecords.state(failed) else { return XCTFail("\(RunRecords.state(failed))") }
        XCTAssertTrue(reason.contains("no-weights"), reason)
    }

    /// Item 13: a full run id that is a prefix of another matches exactly.
    func testAFullRunIDMatchesExactlyBeforeAsAPrefix() throws {
        let ws = try makeTestWorkspace(root)
        let c = try workspaceConfig(root)
        let a = try RunFolder(root: ws.runs, config: c), b = try RunFolder(root: ws.runs, config: c)
        XCTAssertTrue(b.id.hasPrefix(a.id))
        XCTAssertEqual(try RunRecords.resolve(a.id, root: ws.runs), a.path)
        XCTAssertEqual(try RunRecords.resolve(b.id, root: ws.runs), b.path)
    }

    /// Item 14: a runs folder that cannot be created is one line naming it and the cause, not a Foundation dump.
    func testAnUncreatableRunsFolderIsOneLineNamingIt() throws {
        let c = try workspaceConfig(root)
        XCTAssertThrowsError(try RunFolder(root: "/proc/tlab-runs", config: c)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.hasPrefix("/proc/tlab-runs: cannot create the runs folder ("), text)
            XCTAssertFalse(text.contains("NSCocoaErrorDomain") || text.contains("\n"), text)
        }
    }

    /// Item 10: a NaN validation loss is written as an epoch event ("NaN"), not an encoding error.
    func testAnEpochEventWithANaNValidationLossIsWritten() throws {
        let e = TrainingEvent.epoch(.init(epoch: 1, epochs: 2, step: 3, trainLoss: 0.5, trainAccuracy: 0.5, valLoss: -.nan, valAccuracy: 0.5))
        let back = try JSONLines.decoder().decode(TrainingEvent.self, from: Data(e.jsonLine.utf8))
        guard case .epoch(let x) = back else { return XCTFail(e.jsonLine) }
        XCTAssertTrue(x.valLoss.isNaN)
    }
}
