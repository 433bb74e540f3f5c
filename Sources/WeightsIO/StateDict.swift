import Foundation
import Kernels

/// Named float32 tensors in file order, plus string metadata — what every checkpoint format reduces to.
public struct StateDict {
    public var entries: [(name: String, tensor: Tensor)]
    public var metadata: [String: String]

    public init(entries: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
        self.entries = entries; self.metadata = metadata
    }

    public var names: [String] { entries.map(\.name) }
    public subscript(name: String) -> Tensor? { entries.first { $0.name == name }?.tensor }
    public var parameterCount: Int { entries.reduce(0) { $0 + $1.tensor.count } }
}

public struct WeightsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Element types tlab reads from checkpoints; everything becomes float32 in memory.
enum ElementType: String {
    case f32 = "Float", f64 = "Double", f16 = "Half", bf16 = "BFloat16", i64 = "Long", i32 = "Int", i16 = "Short",
         i8 = "Char", u8 = "Byte", bool = "Bool"

    init?(safetensors: String) {
        switch safetensors {
        case "F32": self = .f32
        case "F64": self = .f64
        case "F16": self = .f16
        case "BF16": self = .bf16
        case "I64": self = .i64
        case "I32": self = .i32
        case "I16": self = .i16
        case "I8": self = .i8
        case "U8": self = .u8
        case "BOOL": self = .bool
        default: return nil
        }
    }

    var size: Int {
        switch self { case .f64, .i64: return 8; case .f32, .i32: return 4; case .f16, .bf16, .i16: return 2; case .i8, .u8, .bool: return 1 }
    }

    /// Converts `count` consecutive little-endian elements to Float (a plain copy for f32 on little-endian hosts).
    func convert(_ raw: UnsafeRawPointer, count: Int, into out: UnsafeMutablePointer<Float>) {
        if self == .f32 && 1.littleEndian == 1 {
            UnsafeMutableRawPointer(out).copyMemory(from: raw, byteCount: count * 4)
            return
        }
        for i in 0..<count { out[i] = load(raw, i) }
    }

    /// Element `i` of little-endian raw data as Float.
    @inline(__always) func load(_ raw: UnsafeRawPointer, _ i: Int) -> Float {
        switch self {
        case .f32: return Float(bitPattern: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian)
        case .f64: return Float(Double(bitPattern: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian))
        case .f16: return Float(Float16(bitPattern: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian))
        case .bf16: return Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian) << 16)
        case .i64: return Float(Int64(bitPattern: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian))
        case .i32: return Float(Int32(bitPattern: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self).littleEndian))
        case .i16: return Float(Int16(bitPattern: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self).littleEndian))
        case .i8: return Float(raw.load(fromByteOffset: i, as: Int8.self))
        case .u8: return Float(raw.load(fromByteOffset: i, as: UInt8.self))
        case .bool: return raw.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0
        }
    }
}

/// SHA-256 of a file, hex (for provenance metadata and cache keys).
public func sha256Hex(ofFile path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else { throw WeightsError("\(path): cannot read") }
    var h = SHA256()
    data.withUnsafeBytes { h.update($0) }
    return h.finalize()
}
