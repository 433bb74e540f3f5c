import Foundation
import Kernels

/// The safetensors format: an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {…}}`, then the raw data.
/// Reading memory-maps the file and checks every size and offset against it before touching data.
public enum Safetensors {
    /// Headers above this are refused (the format's own reference implementation uses 100 MB).
    public static let maxHeaderBytes = 100_000_000

    public static func read(path: String) throws -> StateDict {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw WeightsError("\(path): cannot open (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw WeightsError("\(path): cannot stat") }
        let size = Int(st.st_size)
        guard size > 0 else { throw WeightsError("\(path): empty file is too short for a safetensors file") }
        guard let map = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), map != MAP_FAILED else {
            throw WeightsError("\(path): cannot memory-map")
        }
        defer { munmap(map, size) }
        return try parse(UnsafeRawBufferPointer(start: map, count: size), name: path)
    }

    public static func read(bytes: [UInt8], name: String) throws -> StateDict {
        try bytes.withUnsafeBytes { try parse($0, name: name) }
    }

    static func parse(_ buf: UnsafeRawBufferPointer, name: String) throws -> StateDict {
        guard buf.count >= 8 else { throw WeightsError("\(name): \(buf.count) bytes is too short for a safetensors file") }
        var n = 0
        for i in 0..<8 { n |= Int(buf[i]) << (8 * i) }
        guard n > 0, n <= maxHeaderBytes, 8 + n <= buf.count else {
            throw WeightsError("\(name): header length \(n) does not fit a file of \(buf.count) bytes")
        }
        let header = Data(buf[8..<8 + n])
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw WeightsError("\(name): header is not a JSON object")
        }
        let dataStart = 8 + n, dataSize = buf.count - dataStart
        var sd = StateDict()
        if let meta = json["__metadata__"] as? [String: Any] {
            for (k, v) in meta { sd.metadata[k] = "\(v)" }
        }
        var spans: [(Int, Int, String)] = []
        for (key, value) in json where key != "__metadata__" {
            guard let info = value as? [String: Any], let dtypeName = info["dtype"] as? String,
                  let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), offsets.count == 2 else {
                throw WeightsError("\(name): tensor \(key) has a malformed header entry")
            }
            guard let dtype = ElementType(safetensors: dtypeName) else { throw WeightsError("\(name): tensor \(key) has unsupported dtype \(dtypeName)") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw WeightsError("\(name): tensor \(key) has a negative dimension") }
            let (begin, end) = (offsets[0], offsets[1])
            // Checked arithmetic: a header may claim any shape; a product that overflows is refused, not trapped on.
            var count = 1, overflow = false
            for d in shape where !overflow { (count, overflow) = count.multipliedReportingOverflow(by: d) }
            let bytes = overflow ? (0, true) : count.multipliedReportingOverflow(by: dtype.size)
            guard !bytes.1 else { throw WeightsError("\(name): tensor \(key) has shape \(shape), whose size overflows") }
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw WeightsError("\(name): tensor \(key) data [\(begin), \(end)) lies outside the \(dataSize) data bytes")
            }
            guard end - begin == bytes.0 else {
                throw WeightsError("\(name): tensor \(key) has \(end - begin) bytes for shape \(shape) of \(dtypeName)")
            }
            spans.append((begin, end, key))
            let t = Tensor(uninitialized: shape)
            let src = buf.baseAddress! + dataStart + begin
            dtype.convert(src, count: count, into: t.data)
            sd.entries.append((key, t))
        }
        spans.sort { $0.0 < $1.0 }
        for (a, b) in zip(spans, spans.dropFirst()) where b.0 < a.1 {
            throw WeightsError("\(name): tensors \(a.2) and \(b.2) overlap")
        }
        // The format stores tensors sorted by name; keep file order stable for callers by sorting by offset.
        let order = Dictionary(uniqueKeysWithValues: spans.enumerated().map { ($0.element.2, $0.offset) })
        sd.entries.sort { order[$0.name]! < order[$1.name]! }
        return sd
    }

    /// Writes float32 tensors atomically (a temporary file renamed over `path`).
    public static func write(_ sd: StateDict, to path: String) throws {
        var header: [String: Any] = [:]
        var offset = 0
        for (name, t) in sd.entries {
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]]
            offset += t.count * 4
        }
        if !sd.metadata.isEmpty { header["__metadata__"] = sd.metadata }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so the data starts 8-byte aligned
        let w = try AtomicFileWriter(path: path)
        try w.write((0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) })
        try w.write([UInt8](json))
        for (_, t) in sd.entries {
            let c = t.contiguous()
            try w.write(c.data, count: c.count * 4)
        }
        try w.commit()
    }
}

