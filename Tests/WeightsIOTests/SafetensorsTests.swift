import XCTest
import Kernels
import WeightsIO

final class SafetensorsTests: XCTestCase {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-st-\(getpid())")

    override func setUp() { try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func sample() -> StateDict {
        StateDict(entries: [("b.weight", Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])),
                            ("a.bias", Tensor(shape: [3], values: [-1, 0.5, 1e-8])),
                            ("scalar", Tensor(shape: [], values: [42]))],
                  metadata: ["arch": "test", "source_sha256": "abc"])
    }

    func testRoundTripKeepsNamesShapesValuesAndMetadata() throws {
        let path = dir.appendingPathComponent("w.safetensors").path
        try Safetensors.write(sample(), to: path)
        let back = try Safetensors.read(path: path)
        XCTAssertEqual(back.names, ["b.weight", "a.bias", "scalar"])
        XCTAssertEqual(back["b.weight"]?.shape, [2, 3]); XCTAssertEqual(back["b.weight"]?.toArray(), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(back["a.bias"]?.toArray(), [-1, 0.5, 1e-8]); XCTAssertEqual(back["scalar"]?.shape, [])
        XCTAssertEqual(back.metadata, ["arch": "test", "source_sha256": "abc"])
        let raw = [UInt8](FileManager.default.contents(atPath: path)!)
        let headerLength = raw.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0, "data starts 8-byte aligned")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp-\(getpid())"), "no temporary file left behind")
    }

    func header(_ json: String, data: [UInt8]) -> [UInt8] {
        let h = Array(json.utf8)
        return (0..<8).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) } + h + data
    }

    func testCorruptFilesAreRefusedWithTheReason() {
        let cases: [(String, [UInt8], String)] = [
            ("huge header", [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0] + [UInt8](repeating: 0x20, count: 16), "header length"),
            ("short", [1, 0, 0], "too short"),
            ("not json", header("{nope", data: []), "not a JSON object"),
            ("out of range", header(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), "lies outside"),
            ("wrong size", header(#"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "8 bytes for shape [3]"),
            ("overlap", header(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                               data: [UInt8](repeating: 0, count: 12)), "overlap"),
            ("dtype", header(#"{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)), "unsupported dtype"),
            ("negative", header(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}}"#, data: []), "negative"),
        ]
        for (label, bytes, reason) in cases {
            XCTAssertThrowsError(try Safetensors.read(bytes: bytes, name: "bad.safetensors"), label) { e in
                XCTAssertTrue("\(e)".hasPrefix("bad.safetensors: "), "\(label): \(e)")
                XCTAssertTrue("\(e)".contains(reason), "\(label): \(e)")
            }
        }
    }

    func testOtherDtypesConvertToFloat() throws {
        // F16 [1.5, -2], I64 [7], BF16 [1.0]
        let data: [UInt8] = [0x00, 0x3E, 0x00, 0xC0] + [7, 0, 0, 0, 0, 0, 0, 0] + [0x80, 0x3F]
        let json = #"{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"i":{"dtype":"I64","shape":[1],"data_offsets":[4,12]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]}}"#
        let sd = try Safetensors.read(bytes: header(json, data: data), name: "t")
        XCTAssertEqual(sd.names, ["h", "i", "b"])
        XCTAssertEqual(sd["h"]?.toArray(), [1.5, -2]); XCTAssertEqual(sd["i"]?.toArray(), [7]); XCTAssertEqual(sd["b"]?.toArray(), [1])
    }
}
