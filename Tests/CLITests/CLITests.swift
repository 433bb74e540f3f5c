import XCTest
import Engine
import Kernels
import Foundation

/// Runs the built `tlab` binary as a user would and checks what it prints.
final class CLITests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// The tlab executable next to this test bundle (same build folder and configuration) — on Linux the
    /// bundle is an executable in the build folder, elsewhere a directory in it.
    var tlab: URL {
        let bundleDir = Bundle.main.bundleURL.deletingLastPathComponent()
        let executableDir = Bundle.main.executableURL?.deletingLastPathComponent()
        let candidates = [executableDir?.appendingPathComponent("tlab"), Bundle.main.bundleURL.appendingPathComponent("tlab"),
                          bundleDir.appendingPathComponent("tlab"), root.appendingPathComponent(".build/release/tlab")].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }

    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        try run(args, in: root.path, environment: nil)
    }

    /// Runs tlab in `directory`, with `environment` replacing this process's when given.
    func run(_ args: [String], in directory: String, environment: [String: String]?) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = tlab
        p.arguments = args
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        if let environment { p.environment = environment }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func jsonLines(_ s: String) throws -> [[String: Any]] {
        try s.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    func testBackbonesJSONListsEveryBackbone() throws {
        let r = try run(["backbones", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let rows = try jsonLines(r.out)
        XCTAssertEqual(rows.compactMap { $0["name"] as? String },
                       ["efficientnet_lite0", "efficientnet_b0", "resnet18", "resnet50", "vgg16", "vgg16_bn", "mobilenet_v2", "vit_b16", "vit_ti16"])
        let lite0 = rows[0]
        XCTAssertEqual(lite0["parameters"] as? Int, 4_652_008)
        XCTAssertEqual(lite0["feature_dim"] as? Int, 1280)
        XCTAssertEqual(lite0["groups"] as? [String], ["early", "intermediate", "final"])
        XCTAssertEqual((lite0["gflops"] as? Double) ?? 0, 0.80, accuracy: 0.03, "EfficientNet-Lite0 is ~0.4 GMACs at 224")
    }

    func testPredictJSONWithRealWeights() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: root.appendingPathComponent("weights/efficientnet_lite0.safetensors").path),
                          "run `make setup` to convert the Lite0 weights")
        let cat = "Tests/BackbonesTests/Fixtures/photos/chelsea.png", coffee = "Tests/BackbonesTests/Fixtures/photos/coffee.png"
        let r = try run(["predict", "--backbone", "efficientnet_lite0", "--imagenet", "--top", "3", "--json", cat, coffee])
        XCTAssertEqual(r.status, 0, r.err)
        let rows = try jsonLines(r.out)
        XCTAssertEqual(rows.map { $0["file"] as? String }, [cat, coffee])
        let tops = rows.map { ($0["top"] as! [[String: Any]]) }
        XCTAssertEqual(tops[0].count, 3)
        XCTAssertEqual(tops[0][0]["class"] as? Int, 282); XCTAssertEqual(tops[0][0]["label"] as? String, "tiger cat")
        XCTAssertEqual(tops[1][0]["label"] as? String, "espresso")
        let p = tops[1].compactMap { $0["p"] as? Double }
        XCTAssertEqual(p, p.sorted(by: >)); XCTAssertGreaterThan(p[0], 0.9)
    }

    func testBadInputGetsAClearErrorAndNonZeroStatus() throws {
        let notPNG = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-cli-\(getpid()).png")
        try Data("not an image".utf8).write(to: notPNG)
        defer { try? FileManager.default.removeItem(at: notPNG) }
        let weights = root.appendingPathComponent("weights/efficientnet_lite0.safetensors").path
        if FileManager.default.fileExists(atPath: weights) {
            let r = try run(["predict", "--imagenet", notPNG.path])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.err.contains("\(notPNG.path): not a PNG file"), r.err)
        }
        let missing = try run(["predict", "--imagenet", "--backbone", "resnet18", "--weights", "/nonexistent/r18.safetensors", "x.png"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("no such file"), missing.err)
        let unknown = try run(["import", "x.pth", "--arch", "alexnet"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.err.contains("unknown --arch 'alexnet'"), unknown.err)
    }

    /// A scratch folder for a training test; skips when `make setup` has not converted the Lite0 weights.
    func scratchWithLite0Weights(_ name: String) throws -> URL {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: root.appendingPathComponent("weights/efficientnet_lite0.safetensors").path),
                          "run `make setup` to convert the Lite0 weights")
        return FileManager.default.temporaryDirectory.appendingPathComponent("tlab-cli-\(name)-\(getpid())")
    }

    /// `root/a/*.png` and `root/b/*.png`, uniform gray images of `value(class, index)`.
    func writeTwoClassFolder(_ root: URL, perClass: Int, value: (String, Int) -> UInt8) throws {
        for cls in ["a", "b"] {
            let dir = root.appendingPathComponent(cls)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for i in 0..<perClass { try XCTUnwrap(Self.png(value: value(cls, i))).write(to: dir.appendingPathComponent("\(i).png")) }
        }
    }

    /// `tlab config --preset NAME` with some fields changed, written to `file`.
    func writePreset(_ name: String, to file: URL, changing fields: [String: Any]) throws -> URL {
        var json = try JSONSerialization.jsonObject(with: Data(try run(["config", "--preset", name]).out.utf8)) as! [String: Any]
        json.merge(fields) { _, new in new }
        try JSONSerialization.data(withJSONObject: json).write(to: file)
        return file
    }

    /// `--dataset` overrides the config file's dataset (it used to be ignored with --config).
    func testTrainWithConfigHonoursDatasetOverride() throws {
        let tmp = try scratchWithLite0Weights("train")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try writeTwoClassFolder(tmp.appendingPathComponent("tiny"), perClass: 4) { cls, _ in cls == "a" ? 30 : 220 }
        let cfg = try writePreset("feature-extraction", to: tmp.appendingPathComponent("fe.json"), changing: ["epochs": 2, "resolution": 32])
        let r = try run(["train", "--config", cfg.path, "--dataset", tmp.appendingPathComponent("tiny").path,
                         "--runs", tmp.appendingPathComponent("runs").path, "--cache", tmp.appendingPathComponent("cache").path, "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        let started = try jsonLines(r.out).first { $0["event"] as? String == "started" }
        XCTAssertEqual(started?["dataset"] as? String, "tiny")
        XCTAssertEqual(started?["classes"] as? [String], ["a", "b"])
    }

    /// Epoch events of a run folder's log as `RunLogReader` folds them (after a resume the later copy of an
    /// epoch wins), without timings.
    func epochRecords(_ runFolder: URL) throws -> [TrainingEvent.Epoch] {
        try RunLogReader.history(of: runFolder.path).epochs.map { e in
            var e = e; e.elapsedSeconds = 0; e.epochSeconds = 0; e.imagesPerSecond = 0; return e
        }
    }

    func testAKilledGradualRunResumesToTheSameMetrics() throws {
        let tmp = try scratchWithLite0Weights("resume")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try writeTwoClassFolder(tmp.appendingPathComponent("data"), perClass: 12) { cls, i in UInt8((cls == "a" ? 40 : 160) + 5 * i) }
        let cfg = try writePreset("gradual", to: tmp.appendingPathComponent("gradual.json"),
                                  changing: ["epochs": 6, "unfreezeEvery": 1, "resolution": 32, "batchSize": 4])
        let common = ["--dataset", tmp.appendingPathComponent("data").path, "--runs", tmp.appendingPathComponent("runs").path,
                      "--cache", tmp.appendingPathComponent("cache").path, "--json"]

        let whole = try run(["train", "--config", cfg.path] + common)
        XCTAssertEqual(whole.status, 0, whole.err)
        let wholeRun = try XCTUnwrap(try jsonLines(whole.out).last?["run"] as? String)

        // The same run, killed with SIGKILL as soon as epoch 2 is reported (nothing gets to clean up): the
        // checkpoint it resumes from is epoch 1's or epoch 2's, before or after the first unfreeze.
        let p = Process()
        p.executableURL = tlab
        p.arguments = ["train", "--config", cfg.path] + common
        p.currentDirectoryURL = root
        let out = Pipe()
        p.standardOutput = out; p.standardError = Pipe()
        try p.run()
        var seen = "", killedRun: String?
        while p.isRunning || !out.fileHandleForReading.availableData.isEmpty {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
            let events = seen.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            killedRun = killedRun ?? events.first { $0["event"] as? String == "started" }?["run"] as? String
            if events.contains(where: { $0["event"] as? String == "epoch" && $0["epoch"] as? Int == 2 }) { kill(p.processIdentifier, SIGKILL); break }
        }
        p.waitUntilExit()
        XCTAssertEqual(p.terminationReason, .uncaughtSignal, "the run must be killed before it ends")
        let id = try XCTUnwrap(killedRun)
        let folder = tmp.appendingPathComponent("runs/\(id)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("summary.json").path))
        let listed = try run(["runs", "--root", tmp.appendingPathComponent("runs").path])
        XCTAssertTrue(listed.out.contains("\(id)  interrupted"), listed.out)
        XCTAssertTrue(listed.out.contains("continue with: tlab train --resume \(id) --runs \(tmp.appendingPathComponent("runs").path)"), listed.out)

        let resumed = try run(["train", "--resume", id, "--runs", tmp.appendingPathComponent("runs").path,
                               "--cache", tmp.appendingPathComponent("cache").path, "--json"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        let events = try jsonLines(resumed.out)
        XCTAssertEqual(events.first?["event"] as? String, "resumed")
        XCTAssertEqual(events.last?["event"] as? String, "summary")
        let reference = try epochRecords(tmp.appendingPathComponent("runs/\(wholeRun)"))
        XCTAssertEqual(reference.count, 6)
        XCTAssertEqual(reference.map(\.trainableGroups).last, ["early", "intermediate", "final"])
        XCTAssertEqual(try epochRecords(folder), reference, "a killed and resumed run ends with the uninterrupted run's metrics")

        // Resuming a finished run is refused with the reason.
        let again = try run(["train", "--resume", id, "--runs", tmp.appendingPathComponent("runs").path])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.err.contains("finished"), again.err)
    }

    /// A 16×16 gray PNG of one value (uncompressed zlib, written by hand so this test needs no library).
    static func png(value: UInt8) -> Data? {
        func crc(_ b: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for x in b { c ^= UInt32(x); for _ in 0..<8 { c = (c >> 1) ^ (c & 1 == 1 ? 0xEDB8_8320 : 0) } }
            return ~c
        }
        func be(_ v: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> UInt32($0)) } }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] { be(UInt32(data.count)) + Array(type.utf8) + data + be(crc(Array(type.utf8) + data)) }
        let raw = (0..<16).flatMap { _ in [UInt8(0)] + [UInt8](repeating: value, count: 16) }
        var a: UInt32 = 1, b: UInt32 = 0
        for x in raw { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        let n = UInt16(raw.count)
        let zlib: [UInt8] = [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8)] + raw + be(b << 16 | a)
        let ihdr = be(16) + be(16) + [8, 0, 0, 0, 0]
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", zlib) + chunk("IEND", []))
    }

    func testBenchGEMMPrintsOneJSONLine() throws {
        let r = try run(["bench", "gemm", "--json", "--n", "256", "--reps", "1"])
        XCTAssertEqual(r.status, 0, r.err)
        let rows = try jsonLines(r.out)
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows[0]["bench"] as? String, "gemm"); XCTAssertEqual(rows[0]["n"] as? Int, 256)
        XCTAssertGreaterThan(rows[0]["gflops"] as? Double ?? 0, 0)
        // tlab restarts itself with OpenBLAS's workers set to sleep soon after each GEMM; a user's value wins.
        // (Neither variable inherited: this test process went through the same launch and carries both.)
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_THREAD_TIMEOUT"] = nil
        environment["OPENBLAS_CORETYPE"] = nil
        let quiet = try run(["bench", "gemm", "--json", "--n", "64", "--reps", "1"], in: root.path, environment: environment)
        XCTAssertEqual(try jsonLines(quiet.out).first?["openblas_thread_timeout"] as? String, "4", quiet.err)
        // tlab never runs OpenBLAS's generic fallback kernels on a CPU with AVX2 (it names SkylakeX / Haswell itself).
        let core = try jsonLines(quiet.out).first?["openblas_core"] as? String ?? ""
        XCTAssertFalse(core.isEmpty, quiet.out)
        XCTAssertNil(BLASLaunch.coreOverride(picked: core, avx512: BLASLaunch.cpuHasAVX512, avx2FMA: BLASLaunch.cpuHasAVX2FMA), quiet.out)
        environment["OPENBLAS_THREAD_TIMEOUT"] = "28"
        let own = try run(["bench", "gemm", "--json", "--n", "64", "--reps", "1"], in: root.path, environment: environment)
        XCTAssertEqual(try jsonLines(own.out).first?["openblas_thread_timeout"] as? String, "28", own.err)
        // A user's OPENBLAS_CORETYPE is what OpenBLAS runs (Haswell's kernels need AVX2 + FMA).
        if BLASLaunch.cpuHasAVX2FMA {
            environment["OPENBLAS_CORETYPE"] = "Haswell"
            let chosen = try run(["bench", "gemm", "--json", "--n", "64", "--reps", "1"], in: root.path, environment: environment)
            XCTAssertEqual(try jsonLines(chosen.out).first?["openblas_core"] as? String, "Haswell", chosen.err)
        }
        let f = try run(["bench", "forward", "--backbone", "mobilenet_v2", "--batch", "2", "--res", "64", "--reps", "1", "--json"])
        XCTAssertEqual(f.status, 0, f.err)
        let fr = try jsonLines(f.out)[0]
        XCTAssertEqual(Set(fr.keys), ["backbone", "mode", "res", "batch", "frozen", "img_per_s", "peak_rss_mb", "fresh_mb_per_pass"])
        // --profile adds the time by layer kind and by backbone child, the children's running total last.
        let p = try run(["bench", "forward", "--backbone", "mobilenet_v2", "--batch", "2", "--res", "64", "--reps", "1", "--profile"])
        XCTAssertEqual(p.status, 0, p.err)
        let children = p.out.split(separator: "\n").filter { $0.hasPrefix("  child ") }
        XCTAssertEqual(children.count, 24, p.out)   // MobileNetV2's stem conv, BN, activation, 17 blocks, head conv, BN, activation, pool
        XCTAssertTrue(children.first!.hasPrefix("  child features.0.0 ") && children.first!.contains(" 2x32x32x32 "), String(children.first!))   // the stem halves 64
        XCTAssertTrue(children.last!.contains("2x1280 "), String(children.last!))
        XCTAssertTrue(p.out.contains("conv depthwise 3x3/1"), p.out)
    }

    /// `bench train --freeze` trains what a fine-tune-top run trains, and a steady-state step allocates no
    /// fresh tensor memory (everything comes back from the buffer pool).
    func testBenchTrainFreezesGroupsAndReusesMemory() throws {
        let t = try run(["bench", "train", "--backbone", "mobilenet_v2", "--freeze", "early", "--batch", "2", "--res", "64", "--reps", "2", "--json"])
        XCTAssertEqual(t.status, 0, t.err)
        let row = try jsonLines(t.out)[0]
        XCTAssertEqual(row["frozen"] as? [String], ["early"])
        XCTAssertEqual(row["fresh_mb_per_pass"] as? Double, 0, t.out)
        let bad = try run(["bench", "train", "--backbone", "mobilenet_v2", "--freeze", "early,stem", "--reps", "1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("unknown group 'stem'") && bad.err.contains("early, intermediate, final"), bad.err)
        let forward = try run(["bench", "forward", "--freeze", "early", "--reps", "1"])
        XCTAssertNotEqual(forward.status, 0)
        XCTAssertTrue(forward.err.contains("--freeze applies to train only"), forward.err)
    }

    /// `bench conv --only` runs just the shapes it names, and says so when it names none.
    func testBenchConvOnlySelectsShapes() throws {
        let r = try run(["bench", "conv", "--only", "head 1x1", "--batch", "2", "--reps", "1", "--json"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(try jsonLines(r.out).map { $0["layer"] as? String }, ["head 1x1 @7"])
        let none = try run(["bench", "conv", "--only", "winograd", "--reps", "1"])
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.err.contains("--only 'winograd' matches no conv shape") && none.err.contains("resnet18 layer1 3x3"), none.err)
    }
}
