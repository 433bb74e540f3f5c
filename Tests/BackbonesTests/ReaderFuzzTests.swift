import XCTest
import Foundation
import ImageData
import Kernels
import WeightsIO

/// A seeded random-mutation fuzzer for the three readers of untrusted bytes: PNG (decode, then the resize
/// check and the evaluation transform), safetensors and PyTorch checkpoints (zip and legacy pickles). Every
/// mutated input must either read or throw — a trap, an abort or a segfault fails the whole test process.
///
/// `make test` runs a few thousand cases per reader in a few seconds with a fixed seed. Longer runs:
/// `TLAB_FUZZ_SECONDS=3600 TLAB_FUZZ_SEED=N swift test -c release --skip-build --filter ReaderFuzzTests`.
/// Case k of seed s is a pure function of (s, k), so a crash reported at case k (`TLAB_FUZZ_LOG` names the
/// last case begun) replays with `TLAB_FUZZ_START=k TLAB_FUZZ_CASES=1`.
final class ReaderFuzzTests: XCTestCase {
    static let env = ProcessInfo.processInfo.environment
    static let seed = UInt64(env["TLAB_FUZZ_SEED"] ?? "") ?? 20261124
    static let start = Int(env["TLAB_FUZZ_START"] ?? "") ?? 0
    static let cases = Int(env["TLAB_FUZZ_CASES"] ?? "") ?? 20_000
    static let seconds = Double(env["TLAB_FUZZ_SECONDS"] ?? "")
    static let logFile = env["TLAB_FUZZ_LOG"]

    /// One mutation of `seed`: bit flips, interesting bytes, inserted, deleted or duplicated chunks, a
    /// truncation, or a header length field set to an extreme — one to eight of them stacked.
    static func mutate(_ seed: [UInt8], _ g: inout SeededGenerator) -> [UInt8] {
        var b = seed
        func index(_ n: Int) -> Int { n == 0 ? 0 : Int(g.nextFloat() * Float(n)) % n }
        let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x0A, 0x28, 0x2E, 0x5D, 0x61, 0x74, 0x7D]
        for _ in 0..<(1 + index(8)) {
            switch index(7) {
            case 0 where !b.isEmpty: b[index(b.count)] ^= UInt8(1) << UInt8(index(8))
            case 1 where !b.isEmpty: b[index(b.count)] = interesting[index(interesting.count)]
            case 2: let at = index(b.count + 1); b.insert(contentsOf: (0..<(1 + index(16))).map { _ in UInt8(index(256)) }, at: at)
            case 3 where !b.isEmpty: let at = index(b.count), n = min(b.count - at, 1 + index(32)); b.removeSubrange(at..<at + n)
            case 4 where b.count > 1: let at = index(b.count), n = min(b.count - at, 1 + index(64)); b.insert(contentsOf: Array(b[at..<at + n]), at: index(b.count + 1))
            case 5: b = Array(b.prefix(index(b.count + 1)))
            case 6 where b.count >= 8:
                // A little-endian 8-, 4- or 2-byte field somewhere set to an extreme.
                let width = [2, 4, 8][index(3)], at = index(b.count - width + 1)
                let value: UInt64 = [0, 1, UInt64(Int64.max), UInt64.max, 1 << 31, 1 << 62][index(6)]
                for i in 0..<width { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            default: break
            }
        }
        return b
    }

    /// Runs `read` on mutations of `seeds` (case k uses generator (seed, salt, k)); returns how many read and
    /// how many were refused.
    func fuzz(_ name: String, salt: UInt64, seeds: [[UInt8]], _ read: ([UInt8]) throws -> Void) -> (cases: Int, accepted: Int) {
        let deadline = Self.seconds.map { Date().addingTimeInterval($0) }
        var k = Self.start, accepted = 0, done = 0
        let log: FileHandle? = Self.logFile.flatMap { path in
            if !FileManager.default.fileExists(atPath: path) { FileManager.default.createFile(atPath: path, contents: nil) }
            let h = FileHandle(forWritingAtPath: path); _ = try? h?.seekToEnd(); return h
        }
        while deadline.map({ Date() < $0 }) ?? (done < Self.cases) {
            if let log, k % 1000 == 0 { try? log.write(contentsOf: Data("\(name) seed \(Self.seed) case \(k)\n".utf8)) }
            var g = SeededGenerator(seed: SeededGenerator.mix(Self.seed, salt, UInt64(k), 0))
            let input = Self.mutate(seeds[k % seeds.count], &g)
            if (try? read(input)) != nil { accepted += 1 }
            k += 1; done += 1
        }
        if let log { try? log.write(contentsOf: Data("\(name) seed \(Self.seed): \(done) cases from \(Self.start), \(accepted) read, none crashed\n".utf8)) }
        print("fuzz \(name): \(done) cases, \(accepted) read, \(done - accepted) refused")
        return (done, accepted)
    }

    static var fixtures: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("WeightsIOTests/Fixtures") }

    func testMutatedPNGsDecodeOrThrow() throws {
        var seeds: [[UInt8]] = []
        seeds.append(try PNGCodec.encode(width: 7, height: 5, layout: .gray8, samples: (0..<35).map { UInt8(truncatingIfNeeded: $0 * 7) }))
        seeds.append(try PNGCodec.encode(width: 4, height: 6, layout: .rgba8, samples: (0..<96).map { UInt8(truncatingIfNeeded: $0 * 3) }))
        seeds.append(try PNGCodec.encode(width: 1, height: 64, layout: .rgb8, samples: (0..<192).map { UInt8($0) }))
        let r = fuzz("png", salt: 1, seeds: seeds) { bytes in
            let image = try PNGCodec.decode(bytes, name: "fuzz.png")
            try Preprocess.checkResizable(image, shorterSide: 32, file: "fuzz.png")
            _ = Preprocess.evaluation(image, resizeShorterSide: 32, crop: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25])
        }
        XCTAssertGreaterThan(r.cases, 0)
    }

    func testMutatedSafetensorsReadOrThrow() throws {
        let a = Tensor(uninitialized: [2, 3]), b = Tensor(uninitialized: [4])
        for i in 0..<6 { a.data[i] = Float(i) }; for i in 0..<4 { b.data[i] = -Float(i) }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("seed.safetensors").path
        try Safetensors.write(StateDict(entries: [(name: "a", tensor: a), (name: "b.weight", tensor: b)], metadata: ["format": "pt"]), to: file)
        let seed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        let r = fuzz("safetensors", salt: 2, seeds: [seed]) { bytes in _ = try Safetensors.read(bytes: bytes, name: "fuzz.safetensors") }
        XCTAssertGreaterThan(r.cases, 0)
    }

    func testMutatedPyTorchCheckpointsReadOrThrow() throws {
        let seeds = try ["tiny_zip.pth", "tiny_legacy.pth", "wrapped_zip.pth", "evil.pkl"].map {
            [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent($0)))
        }
        let r = fuzz("pickle", salt: 3, seeds: seeds) { bytes in _ = try TorchCheckpoint.read(bytes: bytes, name: "fuzz.pth") }
        XCTAssertGreaterThan(r.cases, 0)
    }

    /// The two inputs the issue found by hand: a shape whose product overflows, and pickles nested 100 000 deep.
    func testAnOverflowingShapeAndADeeplyNestedPickleAreRefusedNamingTheFile() throws {
        let header = Array(#"{"t":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]}}"#.utf8)
        let file = (0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) } + header
        XCTAssertThrowsError(try Safetensors.read(bytes: file, name: "big.safetensors")) {
            XCTAssertTrue("\($0)".contains("big.safetensors") && "\($0)".contains("overflows"), "\($0)")
        }
        for nested in [[UInt8](repeating: 0x28, count: 100_000) + [UInt8](repeating: 0x74, count: 100_000) + [0x2E],  // MARK … TUPLE
                       [0x5D] + [UInt8](repeating: 0x5D, count: 100_000) + [UInt8](repeating: 0x61, count: 100_000) + [0x2E],  // lists APPENDed
                       [0x29] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]] {  // TUPLE1 of TUPLE1 of …
            XCTAssertThrowsError(try TorchCheckpoint.read(bytes: [0x80, 0x02] + nested, name: "deep.pth")) {
                XCTAssertTrue("\($0)".contains("deep.pth") && "\($0)".contains("deep"), "\($0)")
            }
        }
        // Lengths above Int.max are refused, not trapped on.
        let long = [0x80, 0x02, 0x8D] + [UInt8](repeating: 0xFF, count: 8) + [0x2E]
        XCTAssertThrowsError(try TorchCheckpoint.read(bytes: long, name: "long.pth")) { XCTAssertTrue("\($0)".contains("long.pth"), "\($0)") }
    }
}
