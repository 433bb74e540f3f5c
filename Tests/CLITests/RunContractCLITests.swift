import XCTest
import Engine
import Foundation

/// The run contract seen from outside: a viewer tails the log of a `tlab train` process while it writes it,
/// `compare` reads a running run, and a failed run is listed as failed with its reason.
extension CLITests {

    /// A live `tlab train` (fine-tune-top with flips on a tiny folder, so every step reads images) appends to
    /// metrics.jsonl while a `RunLogReader` polls it: the reader sees every event once, in order, and ends
    /// with the same history as a reader of the finished file. While the run trains, `tlab compare` shows it.
    func testAReaderTailsTheLogOfALiveTrainProcessAndCompareShowsTheRunningRun() throws {
        let tmp = try scratchWithLite0Weights("tail")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try writeTwoClassFolder(tmp.appendingPathComponent("data"), perClass: 16) { cls, i in UInt8((cls == "a" ? 40 : 160) + 3 * i) }
        let runs = tmp.appendingPathComponent("runs").path
        let p = Process()
        p.executableURL = tlab
        p.arguments = ["train", "--preset", "fine-tune-top", "--dataset", tmp.appendingPathComponent("data").path, "--epochs", "3",
                       "--res", "64", "--batch-size", "4", "--runs", runs, "--cache", tmp.appendingPathComponent("cache").path, "--json"]
        p.currentDirectoryURL = root
        p.standardOutput = Pipe(); p.standardError = Pipe()
        try p.run()
        // Wait for the folder, then tail it while the process writes.
        var folder: String?
        let deadline = Date().addingTimeInterval(120)
        while folder == nil && Date() < deadline { folder = RunRecords.list(root: runs).first; usleep(20_000) }
        let runFolder = try XCTUnwrap(folder)
        let reader = RunLogReader(run: runFolder)
        var events: [TrainingEvent] = [], polls = 0, comparedWhileRunning = false
        while p.isRunning && Date() < deadline {
            events += try reader.poll(); polls += 1
            if !comparedWhileRunning, reader.history.epochs.count == 1, p.isRunning {
                let c = try run(["compare", (runFolder as NSString).lastPathComponent, "--runs", runs])
                XCTAssertEqual(c.status, 0, c.err)
                XCTAssertTrue(c.out.contains("running") || c.out.contains("finished"), c.out)
                XCTAssertTrue(c.out.contains("F1 a"), c.out)
                comparedWhileRunning = true
            }
            usleep(5_000)
        }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        events += try reader.poll()
        XCTAssertGreaterThan(polls, 3)
        XCTAssertTrue(comparedWhileRunning, "compare ran while the run was training")
        let whole = try RunLogReader.history(of: runFolder)
        XCTAssertEqual(reader.history, whole, "tailing and reading the finished file agree")
        XCTAssertEqual(events.count, whole.eventCount)
        XCTAssertEqual(events.first?.name, "started"); XCTAssertEqual(events.last?.name, "summary")
        XCTAssertEqual(whole.epochs.map(\.epoch), [1, 2, 3])
        XCTAssertFalse(whole.stepLosses.isEmpty)
        // Every epoch line has the per-class and per-group fields in their documented shape.
        let lines = try String(contentsOfFile: runFolder + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["event"] as? String == "epoch" }
        for e in lines {
            XCTAssertNotNil(e["train_acc"] as? Double)
            let perClass = try XCTUnwrap(e["per_class"] as? [[String: Any]])
            XCTAssertEqual(perClass.map { $0["class"] as? String }, ["a", "b"])
            XCTAssertEqual(Set(perClass[0].keys), ["class", "precision", "recall", "f1", "support"])
            XCTAssertNotNil(e["groups"] as? [String: Any])
        }
    }

    /// A run whose image turns unreadable in epoch 2 fails; `tlab runs --json` lists it as failed with the
    /// reason and offers no --resume.
    func testAFailedRunIsListedAsFailedWithItsReason() throws {
        let tmp = try scratchWithLite0Weights("failed")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let data = tmp.appendingPathComponent("data")
        try writeTwoClassFolder(data, perClass: 8) { cls, i in UInt8((cls == "a" ? 40 : 160) + 3 * i) }
        let runs = tmp.appendingPathComponent("runs").path
        let p = Process()
        p.executableURL = tlab
        p.arguments = ["train", "--preset", "fine-tune-top", "--dataset", data.path, "--epochs", "3", "--res", "32", "--batch-size", "4",
                       "--runs", runs, "--cache", tmp.appendingPathComponent("cache").path, "--json"]
        p.currentDirectoryURL = root
        let out = Pipe()
        p.standardOutput = out; p.standardError = Pipe()
        try p.run()
        var seen = ""
        let bad = data.appendingPathComponent("a/3.png")
        while true {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            if seen.contains(#""event":"epoch""#) { try Data("broken".utf8).write(to: bad); break }
        }
        _ = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertNotEqual(p.terminationStatus, 0)
        let listed = try run(["runs", "--runs", runs, "--json"])
        XCTAssertEqual(listed.status, 0, listed.err)
        let row = try XCTUnwrap(try jsonLines(listed.out).first)
        XCTAssertEqual(row["state"] as? String, "failed")
        XCTAssertTrue((row["reason"] as? String ?? "").contains(bad.path), "\(row)")
        XCTAssertNil(row["resume"], "a resume would only fail again")
    }
}

extension CLITests {
    /// A run started with --cache resumes with that cache without being told (the `started` event records it).
    func testAResumedRunUsesTheCacheItStartedWith() throws {
        let tmp = try scratchWithLite0Weights("resume-cache")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try writeTwoClassFolder(tmp.appendingPathComponent("data"), perClass: 8) { cls, i in UInt8((cls == "a" ? 40 : 160) + 3 * i) }
        let runs = tmp.appendingPathComponent("runs").path, cache = tmp.appendingPathComponent("own-cache").path
        let p = Process()
        p.executableURL = tlab
        p.arguments = ["train", "--preset", "feature-extraction", "--dataset", tmp.appendingPathComponent("data").path, "--epochs", "5000",
                       "--res", "32", "--runs", runs, "--cache", cache, "--json"]
        p.currentDirectoryURL = root
        let out = Pipe()
        p.standardOutput = out; p.standardError = Pipe()
        try p.run()
        var seen = ""
        while !seen.contains(#""event":"epoch""#) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let id = try XCTUnwrap(RunRecords.list(root: runs).first.map { ($0 as NSString).lastPathComponent })
        XCTAssertEqual(try RunLogReader.history(of: runs + "/" + id).start?.cache, cache)
        let resumed = try run(["train", "--resume", id, "--runs", runs, "--json"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        let ready = try jsonLines(resumed.out).first { $0["event"] as? String == "features_ready" }
        XCTAssertEqual(ready?["cache_hit"] as? Bool, true, "the features come from the run's own cache: \(resumed.out.prefix(400))")
    }
}
