import XCTest
import Foundation

/// Wrong input is refused with a message that names what is wrong, on stderr, with a non-zero status.
extension CLITests {
    func testAnUnknownPresetIsRefusedWithTheChoices() throws {
        let r = try run(["train", "--preset", "fine-tune-some"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("fine-tune-some"), r.err)
        XCTAssertTrue(r.err.contains("feature-extraction") && r.err.contains("gradual"), r.err)
        let config = try run(["config", "--preset", "gradual"])
        XCTAssertEqual(config.status, 0, config.err)
        XCTAssertTrue(config.out.contains(#""optimizer" : "adamw""#), config.out)
        XCTAssertTrue(config.out.contains(#""kind" : "elpv""#), config.out)
    }

    /// The issue's example, through `tlab train --config`: refused before anything runs, the first unknown key
    /// named on stderr with the nearest known one, a non-zero status and no run folder.
    func testAMisspeltConfigIsRefusedBeforeTraining() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-cli-keys-\(getpid())")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        // A complete preset with the three typos written first, so `epoch` is the first unknown key in the file.
        var preset = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try run(["config", "--preset", "feature-extraction"]).out.utf8)) as? [String: Any])
        preset["head"] = nil
        let rest = try JSONSerialization.data(withJSONObject: preset, options: [.sortedKeys]).dropFirst()
        let text = #"{"epoch": 3, "batch_size": 8, "head": {"learningrate": 0.5}, "# + String(decoding: rest, as: UTF8.self)
        let file = tmp.appendingPathComponent("typos.json")
        try Data(text.utf8).write(to: file)
        let runs = tmp.appendingPathComponent("runs").path
        let r = try run(["train", "--config", file.path, "--runs", runs])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("config field `epoch`: unknown key; did you mean `epochs`?"), r.err)
        XCTAssertTrue(r.err.contains("`batch_size` (did you mean `batchSize`?)") && r.err.contains("`head.learningrate` (did you mean `learningRate`?)"), r.err)
        XCTAssertEqual(r.out, "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: runs), "nothing ran")
    }

    /// Files in a class folder that are not PNG images are counted in the `started` event and said on the terminal.
    func testFilesThatAreNotImagesAreReportedByTrain() throws {
        let tmp = try scratchWithLite0Weights("skipped")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let data = tmp.appendingPathComponent("data")
        try writeTwoClassFolder(data, perClass: 4) { cls, i in UInt8((cls == "a" ? 40 : 160) + 5 * i) }
        try Data("x".utf8).write(to: data.appendingPathComponent("a/notes.txt"))
        try Data("x".utf8).write(to: data.appendingPathComponent("b/photo.jpg"))
        try Data("x".utf8).write(to: data.appendingPathComponent("b/.hidden"))
        let common = ["train", "--preset", "feature-extraction", "--dataset", data.path, "--epochs", "1", "--res", "32",
                      "--runs", tmp.appendingPathComponent("runs").path, "--cache", tmp.appendingPathComponent("cache").path]
        let r = try run(common + ["--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let started = try XCTUnwrap(try jsonLines(r.out).first { $0["event"] as? String == "started" })
        XCTAssertEqual(started["skipped_files"] as? Int, 2)
        XCTAssertFalse(r.out.contains("note:"), "--json prints only events")
        let text = try run(common)
        XCTAssertEqual(text.status, 0, text.err)
        XCTAssertTrue(text.out.contains("note: 2 files that are not PNG images were left out of data"), text.out)
    }
}
