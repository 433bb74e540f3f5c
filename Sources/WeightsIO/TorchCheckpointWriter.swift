import Foundation
import Kernels

extension TorchCheckpoint {
    /// Writes `sd` as a `torch.save` zip checkpoint (an OrderedDict of float32 tensors, one storage each) that
    /// `torch.load(..., weights_only=True)` accepts. The pickle uses only the globals the reader allows.
    public static func write(_ sd: StateDict, to path: String) throws {
        var pkl: [UInt8] = [0x80, 0x02]                               // PROTO 2
        func global(_ module: String, _ name: String) { pkl += [0x63] + Array("\(module)\n\(name)\n".utf8) }
        func unicode(_ s: String) { let b = Array(s.utf8); pkl += [0x58] + le32(b.count) + b }
        func int(_ v: Int) { pkl += [0x4A] + le32(v) }
        func tuple(_ items: [Int]) { pkl += [0x28]; items.forEach(int); pkl += [0x74] }
        global("collections", "OrderedDict"); pkl += [0x29, 0x52]      // OrderedDict()
        pkl += [0x28]                                                  // MARK for SETITEMS
        for (i, (name, t)) in sd.entries.enumerated() {
            unicode(name)
            global("torch._utils", "_rebuild_tensor_v2")
            pkl += [0x28]                                              // args tuple
            pkl += [0x28]; unicode("storage"); global("torch", "FloatStorage"); unicode(String(i)); unicode("cpu"); int(t.count); pkl += [0x74, 0x51]
            int(0)
            tuple(t.shape)
            tuple(Tensor.contiguousStrides(t.shape))
            pkl += [0x89]                                              // requires_grad False
            global("collections", "OrderedDict"); pkl += [0x29, 0x52]  // backward hooks
            pkl += [0x74, 0x52]                                        // TUPLE, REDUCE
        }
        pkl += [0x75, 0x2E]                                            // SETITEMS, STOP

        // Entries: the pickle, the byte order, one raw storage per tensor (straight from tensor memory), version.
        var entries: [(String, UnsafeRawBufferPointer)] = []
        let small = [pkl, Array("little".utf8), Array("3\n".utf8)]
        let keep = sd.entries.map { $0.tensor.contiguous() }
        try small[0].withUnsafeBytes { p in try small[1].withUnsafeBytes { b in try small[2].withUnsafeBytes { v in
            entries.append(("archive/data.pkl", p)); entries.append(("archive/byteorder", b))
            for (i, t) in keep.enumerated() { entries.append(("archive/data/\(i)", UnsafeRawBufferPointer(start: t.data, count: t.count * 4))) }
            entries.append(("archive/version", v))
            let w = try AtomicFileWriter(path: path)
            try writeStoredZip(entries, to: w)
            try w.commit()
        } } }
    }

    static func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
    static func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    /// A zip archive of uncompressed entries, each one's data aligned to 64 bytes as torch.save does.
    static func writeStoredZip(_ files: [(String, UnsafeRawBufferPointer)], to w: AtomicFileWriter) throws {
        var central: [UInt8] = []
        for (name, data) in files {
            let offset = w.bytesWritten, nameBytes = Array(name.utf8), crc = crc32(data)
            // Pad the extra field so that the data begins on a 64-byte boundary.
            let headerEnd = offset + 30 + nameBytes.count + 4
            let pad = (64 - headerEnd % 64) % 64
            let extra: [UInt8] = [0x46, 0x42] + le16(pad) + [UInt8](repeating: 0x5A, count: pad)  // "FB" padding record
            var header = le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(Int(crc))
            header += le32(data.count) + le32(data.count) + le16(nameBytes.count) + le16(extra.count) + nameBytes + extra
            try w.write(header)
            if data.count > 0 { try w.write(data.baseAddress!, count: data.count) }
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(Int(crc))
            central += le32(data.count) + le32(data.count) + le16(nameBytes.count) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
            central += le32(offset) + nameBytes
        }
        let cdOffset = w.bytesWritten
        try w.write(central)
        try w.write(le32(0x0605_4B50) + le16(0) + le16(0) + le16(files.count) + le16(files.count) + le32(central.count) + le32(cdOffset) + le16(0))
    }

    static let crcTable: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        crcTable.withUnsafeBufferPointer { t in
            for b in bytes { c = t[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        }
        return ~c
    }
}
