import Foundation
import Kernels

/// Reads PyTorch checkpoints — the legacy stream format and the zip format of `torch.save` — into a
/// `StateDict`, through `RestrictedUnpickler`. Model objects, optimiser state and anything else that is not
/// a (possibly nested) dict of tensors is refused.
public enum TorchCheckpoint {
    /// 0x1950a86a20f9469cfc6c, little-endian, as pickled by torch.save's legacy writer.
    static let legacyMagic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]

    public static func read(path: String) throws -> StateDict {
        guard let data = FileManager.default.contents(atPath: path) else { throw WeightsError("\(path): cannot read file") }
        return try read(bytes: [UInt8](data), name: path)
    }

    public static func read(bytes: [UInt8], name: String) throws -> StateDict {
        do {
            if bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 3 && bytes[3] == 4 {
                return try readZip(bytes: bytes, name: name)
            }
            return try readLegacy(bytes: bytes, name: name)
        } catch let e as PickleError {
            throw WeightsError("\(name): \(e.description)")
        }
    }

    /// Legacy layout: magic, protocol version, sys-info, the state dict, the list of storage keys, then per
    /// key an int64 element count and the raw little-endian elements.
    static func readLegacy(bytes: [UInt8], name: String) throws -> StateDict {
        var u = RestrictedUnpickler(bytes: bytes)
        guard try u.load() == .bigInt(legacyMagic) else { throw WeightsError("\(name): not a PyTorch checkpoint (bad magic number)") }
        guard let version = try u.load().asInt, version == 1001 else { throw WeightsError("\(name): unsupported legacy protocol version") }
        _ = try u.load()  // sys info: endianness and type sizes
        let root = try u.load()
        guard let keys = try u.load().asSequence?.compactMap(\.asString) else { throw WeightsError("\(name): storage key list missing") }
        var offset = u.position
        var raw: [String: ArraySlice<UInt8>] = [:]
        let refs = tensorReferences(root)
        let types = Dictionary(refs.map { ($0.1.storage.key, $0.1.storage.dtype) }, uniquingKeysWith: { a, _ in a })
        for key in keys {
            guard offset + 8 <= bytes.count else { throw WeightsError("\(name): file ends inside storage \(key)") }
            var count = 0
            for i in 0..<8 { count |= Int(bytes[offset + i]) << (8 * i) }
            offset += 8
            guard let dtype = types[key].flatMap(ElementType.init(rawValue:)) else { throw WeightsError("\(name): storage \(key) has an unknown type") }
            let (size, overflow) = count.multipliedReportingOverflow(by: dtype.size)
            guard count >= 0, !overflow, size <= bytes.count - offset else { throw WeightsError("\(name): file ends inside storage \(key) (truncated download?)") }
            raw[key] = bytes[offset..<offset + size]
            offset += size
        }
        guard offset == bytes.count else { throw WeightsError("\(name): \(bytes.count - offset) unexpected bytes after the last storage") }
        return try materialise(refs, storages: raw, name: name)
    }

    static func readZip(bytes: [UInt8], name: String) throws -> StateDict {
        let zip = try ZipReader(bytes: bytes, name: name)
        guard let pklName = zip.entries.keys.first(where: { $0.hasSuffix("data.pkl") }), let pkl = zip.data(pklName) else {
            throw WeightsError("\(name): zip archive without data.pkl is not a PyTorch checkpoint")
        }
        let prefix = String(pklName.dropLast("data.pkl".count))
        var u = RestrictedUnpickler(bytes: Array(pkl))
        let refs = tensorReferences(try u.load())
        var raw: [String: ArraySlice<UInt8>] = [:]
        for (_, r) in refs where raw[r.storage.key] == nil {
            guard let d = zip.data(prefix + "data/" + r.storage.key) else { throw WeightsError("\(name): storage \(r.storage.key) missing from archive") }
            raw[r.storage.key] = d
        }
        return try materialise(refs, storages: raw, name: name)
    }

    /// Flattens the unpickled root into (name, tensor) pairs. Nested dicts are joined with dots; a
    /// checkpoint that wraps its weights (`{"state_dict": …}`, `{"model": …}`) yields names with that prefix,
    /// which importers strip.
    static func tensorReferences(_ root: PickleValue, prefix: String = "") -> [(String, TensorReference)] {
        guard case let .dict(items) = root else { return [] }
        var out: [(String, TensorReference)] = []
        for (k, v) in items {
            guard let key = k.asString else { continue }
            let full = prefix.isEmpty ? key : prefix + "." + key
            switch v {
            case let .tensor(t): out.append((full, t))
            case .dict: out += tensorReferences(v, prefix: full)
            default: continue
            }
        }
        return out
    }

    static func materialise(_ refs: [(String, TensorReference)], storages: [String: ArraySlice<UInt8>], name: String) throws -> StateDict {
        guard !refs.isEmpty else { throw WeightsError("\(name): no tensors found; is this a state dict?") }
        var sd = StateDict()
        for (tensorName, r) in refs {
            guard let dtype = ElementType(rawValue: r.storage.dtype) else { throw WeightsError("\(name): \(tensorName) has unsupported type \(r.storage.dtype)") }
            guard let raw = storages[r.storage.key] else { throw WeightsError("\(name): storage for \(tensorName) missing") }
            let available = raw.count / dtype.size
            // The furthest element the view touches must lie inside its storage.
            // Checked arithmetic: the pickle may claim any shape, stride and offset.
            var last = r.offset, count = 1, overflow = false
            for (size, stride) in zip(r.shape, r.strides) where !overflow {
                var o1 = false, o2 = false
                (count, o1) = count.multipliedReportingOverflow(by: size)
                if size > 0 {
                    let (step, o3) = (size - 1).multipliedReportingOverflow(by: stride)
                    (last, o2) = last.addingReportingOverflow(step)
                    o2 = o2 || o3
                }
                overflow = o1 || o2
            }
            guard !overflow else { throw WeightsError("\(name): \(tensorName) has shape \(r.shape) and strides \(r.strides), whose extent overflows") }
            guard count == 0 || (last < available && r.strides.allSatisfy { $0 >= 0 }) else {
                throw WeightsError("\(name): \(tensorName) \(r.shape) reaches past its storage of \(available) elements")
            }
            let t = Tensor(uninitialized: r.shape)
            if r.strides == Tensor.contiguousStrides(r.shape) || count <= 1 {
                raw.withUnsafeBytes { p in dtype.convert(p.baseAddress! + r.offset * dtype.size, count: count, into: t.data) }
                sd.entries.append((tensorName, t))
                continue
            }
            raw.withUnsafeBytes { p in
                let base = p.baseAddress!
                let rank = r.shape.count
                var idx = [Int](repeating: 0, count: rank)
                for i in 0..<count {
                    var rem = i, off = r.offset
                    for d in stride(from: rank - 1, through: 0, by: -1) { idx[d] = rem % r.shape[d]; rem /= r.shape[d]; off += idx[d] * r.strides[d] }
                    t.data[i] = dtype.load(base, off)
                }
            }
            sd.entries.append((tensorName, t))
        }
        return sd
    }
}
