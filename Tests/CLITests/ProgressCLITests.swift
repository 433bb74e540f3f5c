import XCTest
import Engine
import Foundation

/// `tlab features` and `tlab eval` show a progress line on a terminal, and never in a pipe or with --json.
extension CLITests {
    /// Runs tlab in `directory` with stdout on a pseudo-terminal; returns the status and everything written there.
    func runOnTerminal(_ args: [String], in directory: String) throws -> (status: Int32, out: String) {
        // Linux's pty multiplexer: unlock the new pair (TIOCSPTLCK) and ask its number (TIOCGPTN) — what
        // posix_openpt / unlockpt / ptsname do, which Swift's Glibc module does not export.
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0, number: UInt32 = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw XCTSkip("no pseudo-terminal")
        }
        let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        guard slave >= 0 else { close(master); throw XCTSkip("cannot open /dev/pts/\(number)") }
        let p = Process()
        p.executableURL = tlab
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        p.standardOutput = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
        p.standardError = Pipe()
        let collected = OutputBuffer()
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(master, &buffer, buffer.count)
                if n <= 0 { break }
                collected.append(buffer[..<n])
            }
        }
        reader.start()
        try p.run()
        p.waitUntilExit()
        close(slave)
        while !reader.isFinished { usleep(10_000) }
        close(master)
        return (p.terminationStatus, collected.text)
    }

    final class OutputBuffer: @unchecked Sendable {
        private let lock = NSLock()
        private var bytes: [UInt8] = []
        func append(_ b: ArraySlice<UInt8>) { lock.lock(); bytes += b; lock.unlock() }
        var text: String { lock.lock(); defer { lock.unlock() }; return String(decoding: bytes, as: UTF8.self) }
    }

    func testFeaturesAndEvalShowProgressOnlyOnATerminal() throws {
        let tmp = try scratchWithLite0Weights("progress")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try writeTwoClassFolder(tmp.appendingPathComponent("data"), perClass: 6) { cls, i in UInt8((cls == "a" ? 40 : 160) + 5 * i) }
        let cache = tmp.appendingPathComponent("cache").path, runs = tmp.appendingPathComponent("runs").path
        let erase = "\r\u{1B}[2K"

        let features = ["features", "--dataset", "data", "--res", "32", "--batch", "4", "--cache", cache]
        let shown = try runOnTerminal(features, in: tmp.path)
        XCTAssertEqual(shown.status, 0, shown.out)
        XCTAssertTrue(shown.out.contains(erase + "features 4/12"), shown.out)
        XCTAssertTrue(shown.out.contains("img/s  ETA "), shown.out)
        XCTAssertTrue(shown.out.contains("data: 12 images through efficientnet_lite0 at 32×32: computed"), shown.out)
        let piped = try run(features + ["--cache", tmp.appendingPathComponent("cache2").path], in: tmp.path, home: nil)
        XCTAssertEqual(piped.status, 0, piped.err)
        XCTAssertFalse(piped.out.contains("\r") || piped.out.contains("\u{1B}") || piped.err.contains("\r"), piped.out + piped.err)
        XCTAssertTrue(piped.out.contains("computed"), piped.out)
        let quiet = try runOnTerminal(features + ["--cache", tmp.appendingPathComponent("cache3").path, "--json"], in: tmp.path)
        XCTAssertEqual(quiet.status, 0, quiet.out)
        XCTAssertFalse(quiet.out.contains("\u{1B}"), "no progress line with --json: \(quiet.out)")
        let line = try XCTUnwrap(try jsonLines(quiet.out.replacingOccurrences(of: "\r", with: "")).first)
        XCTAssertEqual(Set(line.keys), ["dataset", "backbone", "images", "cache_hit", "hash_s", "wall_s", "key", "skipped_files"])
        XCTAssertEqual(line["cache_hit"] as? Bool, false)

        // A run trained from `tmp` on the relative folder `data` records absolute paths, so eval works from `/`.
        let train = try run(["train", "--preset", "feature-extraction", "--dataset", "data", "--epochs", "2", "--res", "32", "--runs", runs,
                             "--cache", cache, "--json"], in: tmp.path, home: nil)
        XCTAssertEqual(train.status, 0, train.err)
        XCTAssertEqual(try jsonLines(train.out).first { $0["event"] as? String == "features_ready" }?["cache_hit"] as? Bool, true,
                       "train and features share one cache key")
        let id = try XCTUnwrap(try jsonLines(train.out).last?["run"] as? String)
        let config = try RunRecords.config(runs + "/" + id)
        XCTAssertEqual(config.dataset.path, tmp.appendingPathComponent("data").path)
        XCTAssertTrue(try RunRecords.split(runs + "/" + id).files.allSatisfy { $0.hasPrefix(tmp.path + "/data/") })
        // eval reads the stored results; --recompute re-evaluates the checkpoint with a progress line on a terminal.
        let eval = try runOnTerminal(["eval", id, "--runs", runs, "--recompute"], in: "/")
        XCTAssertEqual(eval.status, 0, eval.out)
        XCTAssertTrue(eval.out.contains(erase + "eval "), eval.out)
        XCTAssertTrue(eval.out.contains("val acc"), eval.out)
        let evalPiped = try run(["eval", id, "--runs", runs, "--recompute"], in: "/", home: nil)
        XCTAssertEqual(evalPiped.status, 0, evalPiped.err)
        XCTAssertFalse(evalPiped.out.contains("\u{1B}"), evalPiped.out)
        let storedOnTerminal = try runOnTerminal(["eval", id, "--runs", runs], in: "/")
        XCTAssertFalse(storedOnTerminal.out.contains(erase + "eval "), "stored results need no backbone pass: \(storedOnTerminal.out)")
        XCTAssertTrue(storedOnTerminal.out.contains("val acc"), storedOnTerminal.out)
        // The stored results are what the recompute path gives on the same run.
        var stored = try XCTUnwrap(try jsonLines(try run(["eval", id, "--runs", runs, "--json"], in: "/", home: nil).out).first)
        var recomputed = try XCTUnwrap(try jsonLines(try run(["eval", id, "--runs", runs, "--json", "--recompute"], in: "/", home: nil).out).first)
        XCTAssertEqual(stored["source"] as? String, "stored"); XCTAssertEqual(recomputed["source"] as? String, "recomputed")
        XCTAssertEqual(try XCTUnwrap(stored["loss"] as? Double), try XCTUnwrap(recomputed["loss"] as? Double), accuracy: 1e-4)
        for key in ["source", "loss"] { stored[key] = nil; recomputed[key] = nil }
        XCTAssertEqual(NSDictionary(dictionary: stored), NSDictionary(dictionary: recomputed))
    }
}
