import Foundation

/// Reads the uncompressed ("stored") entries of a zip archive, which is how `torch.save` writes its
/// checkpoints. Compressed entries and zip64 archives are refused with a clear message.
struct ZipReader {
    let bytes: [UInt8]
    let name: String
    private(set) var entries: [String: Range<Int>] = [:]

    init(bytes: [UInt8], name: String) throws {
        self.bytes = bytes; self.name = name
        func u16(_ o: Int) throws -> Int {
            guard o >= 0, o + 2 <= bytes.count else { throw WeightsError("\(name): zip structure points past the end of the file") }
            return Int(bytes[o]) | Int(bytes[o + 1]) << 8
        }
        func u32(_ o: Int) throws -> Int { let lo = try u16(o), hi = try u16(o + 2); return lo | hi << 16 }
        // End of central directory: the last "PK\5\6" within the final 64 KiB + 22 bytes.
        var eocd = -1
        var i = bytes.count - 22
        while i >= max(0, bytes.count - 65_557) {
            if bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 5 && bytes[i + 3] == 6 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw WeightsError("\(name): not a zip archive (no end-of-central-directory record)") }
        let count = try u16(eocd + 10)
        var p = try u32(eocd + 16)
        if count == 0xFFFF || p == 0xFFFF_FFFF { throw WeightsError("\(name): zip64 archives (over 4 GiB) are not supported") }
        for _ in 0..<count {
            guard try u32(p) == 0x0201_4B50 else { throw WeightsError("\(name): corrupt zip central directory") }
            let method = try u16(p + 10), size = try u32(p + 20), nameLen = try u16(p + 28)
            let extraLen = try u16(p + 30), commentLen = try u16(p + 32), local = try u32(p + 42)
            guard p + 46 + nameLen <= bytes.count else { throw WeightsError("\(name): corrupt zip entry name") }
            let entry = String(decoding: bytes[p + 46..<p + 46 + nameLen], as: UTF8.self)
            guard method == 0 else { throw WeightsError("\(name): entry \(entry) is compressed (method \(method)); torch.save writes stored entries only") }
            guard try u32(local) == 0x0403_4B50 else { throw WeightsError("\(name): corrupt local header for \(entry)") }
            let nameLength = try u16(local + 26), extraLength = try u16(local + 28)
            let start = local + 30 + nameLength + extraLength
            guard start >= 0, start + size <= bytes.count else { throw WeightsError("\(name): entry \(entry) runs past the end of the file") }
            entries[entry] = start..<start + size
            p += 46 + nameLen + extraLen + commentLen
        }
    }

    func data(_ entry: String) -> ArraySlice<UInt8>? { entries[entry].map { bytes[$0] } }
}
