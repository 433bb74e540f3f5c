import Foundation

/// Streams bytes into `path.tmp-PID` and renames it over `path` on `commit()`: readers see the old file or
/// the new one, never a torn one, and a failed write (full disk, killed process) leaves the old file intact.
public final class AtomicFileWriter {
    public let path: String
    let temporary: String
    let fd: Int32
    public private(set) var bytesWritten = 0
    private var done = false

    public init(path: String) throws {
        self.path = path
        temporary = path + ".tmp-\(getpid())"
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw WeightsError("\(path): cannot create \(temporary) (\(String(cString: strerror(errno))))") }
    }

    deinit { if !done { close(fd); unlink(temporary) } }

    public func write(_ p: UnsafeRawPointer, count: Int) throws {
        var off = 0
        while off < count {
            let n = Foundation.write(fd, p + off, min(count - off, 1 << 26))
            if n < 0 {
                if errno == EINTR { continue }
                throw WeightsError("\(path): write failed (\(String(cString: strerror(errno))))")
            }
            off += n
        }
        bytesWritten += count
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0.baseAddress!, count: $0.count) } }

    /// Flushes to disk and renames into place.
    public func commit() throws {
        guard fsync(fd) == 0 else { throw WeightsError("\(path): fsync failed (\(String(cString: strerror(errno))))") }
        close(fd)
        done = true
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw WeightsError("\(path): rename failed (\(String(cString: strerror(errno))))")
        }
    }
}

/// Writes `data` atomically (see `AtomicFileWriter`).
public func writeAtomically(_ data: Data, to path: String) throws {
    let w = try AtomicFileWriter(path: path)
    try data.withUnsafeBytes { try w.write($0.baseAddress!, count: $0.count) }
    try w.commit()
}
