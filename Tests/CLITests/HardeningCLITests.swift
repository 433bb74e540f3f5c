import XCTest
import Engine
import Foundation

/// Issue 9 through the built binary: numeric options refused in validate(), predict's partial results,
/// and 8 `tlab train` processes started at once, 20 times, never sharing a run folder.
extension CLITests {
    func testEveryNumericOptionIsValidatedNamingIt() throws {
        let cases: [([String], String)] = [
            (["features", "--batch", "0"], "--batch"),
            (["features", "--res", "0"], "--res"),
            (["features", "--res", "100000"], "--res"),
            (["bench", "forward", "--res", "0"], "--res"),
            (["bench", "gemm", "--n", "100000"], "--n"),
            (["bench", "conv", "--batch", "100000"], "--batch"),
            (["demo", "--size", "100000"], "--size"),
            (["train", "--preset", "gradual", "--batch-size", "0"], "--batch-size"),
            // A negative value is reported as such, not as a missing one.
            (["train", "--preset", "gradual", "--epochs", "-3"], "--epochs must be at least 1 (got -3)"),
            (["features", "--batch", "-1"], "--batch must be positive (got -1)"),
            (["bench", "forward", "--res", "-5"], "--res must be in 32…1024 (got -5)"),
        ]
        for (args, option) in cases {
            let r = try run(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.err.contains(option), "\(args): \(r.err)")
            XCTAssertFalse(r.err.contains("Fatal error") || r.err.contains("Crash") || r.err.contains("Missing value"), "\(args): \(r.err)")
        }
    }

    /// One unreadable file among good ones: the good ones' predictions are printed, the bad one is named on
    /// stderr, and the status says something failed.
    func testPredictPrintsTheGoodFilesAndReportsTheBadOne() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: root.appendingPathComponent("weights/efficientnet_lite0.safetensors").path),
                          "run `make setup` to convert the Lite0 weights")
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-cli-bad-\(getpid()).png")
        try Data("not an image".utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        let cat = "Tests/BackbonesTests/Fixtures/photos/chelsea.png"
        let r = try run(["predict", "--imagenet", "--json", cat, bad.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(try jsonLines(r.out).map { $0["file"] as? String }, [cat])
        XCTAssertTrue(r.err.contains(bad.path), r.err)
    }

    /// 8 processes of one config started together, 20 times (they fail fast on missing weights, after their
    /// run folder exists): every process gets a folder of its own, named in its own `started` event.
    func testEightTrainProcessesStartedTogetherTwentyTimesNeverShareARunFolder() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-cli-launch-\(getpid())")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try writeTwoClassFolder(tmp.appendingPathComponent("data"), perClass: 4) { cls, i in UInt8((cls == "a" ? 40 : 160) + i) }
        let config = try writePreset("feature-extraction", to: tmp.appendingPathComponent("c.json"), changing: [
            "dataset": ["kind": "folder", "path": tmp.appendingPathComponent("data").path], "backbone": "mobilenet_v2", "resolution": 32])
        for round in 0..<20 {
            let runs = tmp.appendingPathComponent("runs-\(round)").path
            let processes = (0..<8).map { _ -> Process in
                let p = Process()
                p.executableURL = tlab
                p.arguments = ["train", "--config", config.path, "--runs", runs, "--json"]
                p.environment = ["TLAB_HOME": tmp.path]  // no weights there
                p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
                return p
            }
            for p in processes { try p.run() }
            for p in processes { p.waitUntilExit() }
            let folders = RunRecords.list(root: runs)
            XCTAssertEqual(folders.count, 8, "round \(round): \(folders)")
            let pids = Set(folders.compactMap { try? RunLogReader.history(of: $0).start?.pid })
            XCTAssertEqual(pids, Set(processes.map(\.processIdentifier)), "round \(round): one folder per process")
            for f in folders { XCTAssertEqual(try RunLogReader.history(of: f).eventCount, 2, "started, failed: \(f)") }
        }
    }
}
