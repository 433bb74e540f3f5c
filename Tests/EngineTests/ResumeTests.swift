import XCTest
import Backbones
import Engine
import Kernels
import WeightsIO

/// Determinism, stop / resume and pause on a gradual run (every epoch unfreezes one more group, with
/// augmentation on): a resumed run must end with exactly the metrics of one that never stopped.
final class ResumeTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-resume-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    func gradualConfig() throws -> ExperimentConfig {
        var c = try workspaceConfig(root)
        c.name = "gradual"
        c.unfreezeEvery = 1; c.epochs = 3
        c.augmentation = AugmentationConfig(randomResizedCrop: true, horizontalFlip: true, verticalFlip: true,
                                            rotationDegrees: 10, brightness: 0.2, contrast: 0.2)
        c.augmentation.cropScale = [0.5, 1]
        return c
    }

    /// What a run's log says happened, folded by `RunLogReader` (an epoch or step repeated after a resume counts
    /// once, the last copy), without what depends on the clock.
    struct Replay: Equatable {
        var epochs: [TrainingEvent.Epoch]
        var steps: [RunHistory.StepLoss]
        var unfreezes: [TrainingEvent.Unfroze]
    }
    func replayable(_ runPath: String) throws -> Replay {
        let h = try RunLogReader.history(of: runPath)
        return Replay(epochs: h.epochs.map { e in
            var e = e; e.elapsedSeconds = 0; e.epochSeconds = 0; e.imagesPerSecond = 0; return e
        }, steps: h.stepLosses, unfreezes: h.unfreezes)
    }

    func testSameConfigAndSeedGiveTheSameLogAndAResumedRunEndsTheSame() throws {
        let ws = try makeTestWorkspace(root)
        let c = try gradualConfig()
        let a = try Experiment.run(c, paths: ws).summary()
        let b = try Experiment.run(c, paths: ws).summary()
        let reference = try replayable(a.runPath)
        XCTAssertEqual(reference.epochs.map(\.trainableGroups),
                       [[], ["final"], ["intermediate", "final"]])
        XCTAssertEqual(try replayable(b.runPath), reference, "same config and seed: same metrics.jsonl apart from timings")

        // Stop mid-epoch 2 (after the first unfreeze) and resume: the same steps, losses and metrics.
        let control = TrainingControl()
        let stopped = try Experiment.run(c, paths: ws, control: control) { e in
            if case .step(let s) = e, s.epoch == 2, s.epochStep == 2 { control.stop() }
        }
        guard case .stopped(_, let path, let epoch) = stopped else { return XCTFail("the run should have stopped") }
        XCTAssertEqual(epoch, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "/summary.json"))
        XCTAssertEqual(RunRecords.state(path), .stopped)
        // A kill in the middle of an append leaves a torn last line; resuming cuts it off.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path + "/metrics.jsonl"))
        try handle.seekToEnd(); try handle.write(contentsOf: Data(#"{"event":"st"#.utf8)); try handle.close()
        var resumedEvents: [TrainingEvent] = []
        let resumed = try Experiment.resume(path, paths: ws) { resumedEvents.append($0) }.summary()
        if case .resumed(let p) = resumedEvents.first { XCTAssertEqual(p, .init(epoch: 2, step: 4 + 2, epochStep: 2)) }
        else { XCTFail("a resumed run says so first") }
        XCTAssertEqual(try replayable(path), reference)
        XCTAssertEqual(resumed.last, a.last)
        XCTAssertEqual(resumed.best, a.best)
        XCTAssertEqual(RunRecords.state(path), .finished)
        XCTAssertThrowsError(try Experiment.resume(path, paths: ws)) { XCTAssertTrue("\($0)".contains("finished"), "\($0)") }
    }

    func testAKilledRunResumesFromItsLastEpochCheckpointAcrossAnUnfreezeBoundary() throws {
        let ws = try makeTestWorkspace(root)
        let c = try gradualConfig()
        let a = try Experiment.run(c, paths: ws).summary()
        // A kill during epoch 2 leaves the checkpoint written at the end of epoch 1 (still feature extraction
        // for the backbone): keep a copy of it, stop later, put the copy back — as if the process had died.
        let control = TrainingControl()
        var copied = false
        let killed = try Experiment.run(c, paths: ws, control: control) { e in
            guard case .step(let s) = e else { return }
            if s.epoch == 2 && s.epochStep == 1 {
                let run = try! RunRecords.list(root: ws.runs).first!
                try! FileManager.default.copyItem(atPath: run + "/checkpoints/last.safetensors", toPath: run + "/epoch1.safetensors")
                copied = true
            }
            if s.epoch == 3 && s.epochStep == 1 { control.stop() }
        }
        guard case .stopped(_, let path, _) = killed, copied else { return XCTFail("the run should have stopped") }
        try FileManager.default.removeItem(atPath: path + "/checkpoints/last.safetensors")
        try FileManager.default.moveItem(atPath: path + "/epoch1.safetensors", toPath: path + "/checkpoints/last.safetensors")
        let resumed = try Experiment.resume(path, paths: ws).summary()
        XCTAssertEqual(try replayable(path), try replayable(a.runPath))
        XCTAssertEqual(resumed.last, a.last)
    }

    func testPauseHoldsTheRunAndStopEndsItWithACheckpoint() throws {
        let ws = try makeTestWorkspace(root)
        var c = try gradualConfig()
        c.epochs = 2
        let session = TrainingSession(.start(c), paths: ws)
        let lock = NSLock()
        var events: [String] = []
        var runPath = ""
        let ended = expectation(description: "the session calls back once when the run ends")
        session.start(onEvent: { e in
            lock.lock(); events.append(e.name); lock.unlock()
            if case .started(let s) = e { runPath = ws.runs + "/" + s.run }
            if case .step(let s) = e, s.epoch == 1, s.epochStep == 1 { session.pause() }
        }, onEnd: { _ in ended.fulfill() })
        // Paused after the first step: no more steps arrive while it waits.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline { lock.lock(); let paused = events.contains("paused"); lock.unlock(); if paused { break }; usleep(10_000) }
        lock.lock(); let atPause = events.filter { $0 == "step" }.count; lock.unlock()
        XCTAssertEqual(atPause, 1)
        usleep(300_000)
        lock.lock(); XCTAssertEqual(events.filter { $0 == "step" }.count, 1, "no step while paused"); lock.unlock()
        XCTAssertEqual(RunRecords.state(runPath), .paused, "a paused run is still a live one")
        session.continue()
        session.stop()
        guard case .stopped(_, let path, _) = try session.wait().get() else { return XCTFail("stop ends the run") }
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + "/checkpoints/last.safetensors"))
        wait(for: [ended], timeout: 10)
        lock.lock(); XCTAssertEqual(events.last, "stopped"); lock.unlock()
    }

    /// Every step's learning rate per group equals the group's policy for that epoch times the schedule's
    /// factor at that step: gradual unfreezing and cosine warm-up together, the classic place for LR bugs.
    func testEveryGroupsLearningRateAtEveryStepIsWhatConfigAndScheduleSay() throws {
        let ws = try makeTestWorkspace(root)
        var c = try gradualConfig()
        c.schedule = .cosine(warmupSteps: 3, minFactor: 0.1)
        var steps: [TrainingEvent.Step] = []
        _ = try Experiment.run(c, paths: ws) { if case .step(let s) = $0 { steps.append(s) } }.summary()
        XCTAssertEqual(steps.count, 3 * 4)
        for (k, s) in steps.enumerated() {
            let policies = c.policies(atEpoch: s.epoch - 1)
            let f = Double(c.schedule.factor(step: k, totalSteps: steps.count))
            for g in ExperimentConfig.groupOrder {
                let base = policies[g]!.trainable ? policies[g]!.learningRate! : 0
                XCTAssertEqual(s.learningRates[g]!, Double(Float(base)) * f, accuracy: 1e-12 + 1e-6 * base, "step \(k) group \(g)")
            }
            XCTAssertEqual(s.learningRates["head"]!, Double(Float(c.head.learningRate)) * f, accuracy: 1e-6 * c.head.learningRate, "step \(k) head")
        }
        XCTAssertEqual(steps[0].learningRates["head"], 0, "warm-up starts from zero")
        XCTAssertEqual(steps[4].learningRates["intermediate"], 0, "intermediate is still frozen in epoch 2")
        XCTAssertGreaterThan(steps[8].learningRates["intermediate"]!, 0, "and unfrozen in epoch 3")
    }

    func testAStopDuringTheFeaturePassEndsItAndResumeStartsOver() throws {
        let ws = try makeTestWorkspace(root)
        let c = try workspaceConfig(root)
        let control = TrainingControl()
        var featureEvents = 0
        let stopped = try Experiment.run(c, paths: ws, control: control) { e in
            if case .progress = e { featureEvents += 1; control.stop() }
        }
        guard case .stopped(_, let path, 0) = stopped else { return XCTFail("stopped before any epoch") }
        XCTAssertEqual(featureEvents, 1, "the pass ends at the next batch")
        let resumed = try Experiment.resume(path, paths: ws).summary()
        let fresh = try Experiment.run(c, paths: ws).summary()
        XCTAssertEqual(resumed.last, fresh.last)
        XCTAssertFalse(resumed.cacheHit, "nothing half-done was cached")
    }

    /// A run folder on a 96 KB file system: the run ends with an error naming the file it could not write,
    /// and the checkpoint already there stays whole (atomic writes) and resumable once there is room.
    func testAFullDiskEndsTheRunWithAClearErrorAndKeepsTheLastCheckpoint() throws {
        var ws = try makeTestWorkspace(root)
        let small = root.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: small, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=96k", "tmpfs", small.path]
        mount.standardError = Pipe()
        try mount.run(); mount.waitUntilExit()
        try XCTSkipUnless(mount.terminationStatus == 0, "needs root and permission to mount a small tmpfs")
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [small.path]
            try? umount.run(); umount.waitUntilExit()
        }
        ws.runs = small.appendingPathComponent("runs").path
        var c = try workspaceConfig(root)
        c.epochs = 200
        XCTAssertThrowsError(try Experiment.run(c, paths: ws)) { e in
            XCTAssertTrue("\(e)".contains(ws.runs), "the error names the file: \(e)")
        }
        let run = try XCTUnwrap(RunRecords.list(root: ws.runs).first)
        let last = run + "/checkpoints/last.safetensors"
        XCTAssertNoThrow(try Safetensors.read(path: last), "the last checkpoint is whole")
        XCTAssertNil(try RunRecords.summary(run))
    }

    func testResumeRefusesAFolderThatIsNotARunOrADamagedCheckpointAndKeepsIt() throws {
        let ws = try makeTestWorkspace(root)
        let control = TrainingControl()
        var c = try gradualConfig()
        c.epochs = 2
        let stopped = try Experiment.run(c, paths: ws, control: control) { if case .step(let s) = $0, s.epoch == 2 { control.stop() } }
        guard case .stopped(_, let path, _) = stopped else { return XCTFail("the run should have stopped") }
        let last = path + "/checkpoints/last.safetensors"
        let damaged = Data("not a checkpoint".utf8)
        try damaged.write(to: URL(fileURLWithPath: last))
        XCTAssertThrowsError(try Experiment.resume(path, paths: ws)) { XCTAssertTrue("\($0)".contains(last), "\($0)") }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: last)), damaged, "a failed resume writes nothing over it")
        XCTAssertThrowsError(try Experiment.resume(root.path, paths: ws)) { XCTAssertTrue("\($0)".contains("config.json"), "\($0)") }
    }
}
