import Foundation

/// Each image's evaluation resize + centre crop (`Preprocess.resizeCentreCrop`, values 0…255), kept in memory
/// from its first decode for every later epoch — what a PyTorch script does when it stacks the resized
/// dataset into one tensor up front. A training run without random crops asks for the same crop of every
/// image once per epoch; decoding and resampling it again each time cost ~6 % of a fine-tune-top step's CPU
/// (inflate, resample and the page faults of their fresh buffers, on cores shared with training). Gray images keep one plane, not three. Holds at most `limitBytes`; images beyond it
/// are decoded each time, as without the cache. A file whose size or modification time changed since it was
/// read is read again (a stat per use), so a file replaced or corrupted mid-run is seen, as without the
/// cache. Thread-safe: batches fill it from every core.
public final class ResizedImageCache: @unchecked Sendable {
    public let resize: Int, crop: Int, limitBytes: Int
    private var images: [String: Entry] = [:]
    private var storedBytes = 0
    private let lock = NSLock()

    /// One image's crop: `planes` holds one plane (gray) or three, each crop × crop.
    public struct Entry: Sendable {
        public let planes: [Float]
        let plane: Int
        let stamp: FileStamp?
        public var isGray: Bool { planes.count < 3 * plane }
        /// Where channel c's plane starts in `planes` (a gray image's one plane serves every channel).
        public func offset(ofChannel c: Int) -> Int { isGray ? 0 : c * plane }
        /// [3, crop, crop], as `Preprocess.resizeCentreCrop` returns it.
        public var threeChannels: [Float] { isGray ? planes + planes + planes : planes }
    }

    public init(resize: Int, crop: Int, limitBytes: Int = 1 << 30) {
        self.resize = resize; self.crop = crop; self.limitBytes = limitBytes
    }

    /// Bytes held.
    public var bytes: Int { lock.lock(); defer { lock.unlock() }; return storedBytes }
    /// Images held.
    public var count: Int { lock.lock(); defer { lock.unlock() }; return images.count }

    /// The crop of the image at `path`: the stored one, or decoded now (and stored while under the limit).
    public func entry(_ path: String) throws -> Entry {
        let stamp = FileStamp(path)
        lock.lock()
        if let e = images[path], let stamp, e.stamp == stamp { lock.unlock(); return e }
        lock.unlock()
        let image = try PNGCodec.decode(file: path)
        try Preprocess.checkResizable(image, shorterSide: resize, file: path)
        let plane = crop * crop
        let planes = [Float](unsafeUninitializedCapacity: image.channels * plane) { out, n in
            Preprocess.resizedCrop(image, resizeShorterSide: resize, crop: crop, into: out.baseAddress!)
            n = out.count
        }
        let e = Entry(planes: planes, plane: plane, stamp: stamp)
        let size = e.planes.count * MemoryLayout<Float>.size
        lock.lock(); defer { lock.unlock() }
        let old = images[path].map { $0.planes.count * MemoryLayout<Float>.size } ?? 0
        if stamp != nil, storedBytes - old + size <= limitBytes {
            images[path] = e
            storedBytes += size - old
        }
        return e
    }
}

/// A file's size and modification time, as `stat` gives them (nil when it cannot be read).
struct FileStamp: Equatable, Sendable {
    let size: Int, seconds: Int, nanoseconds: Int

    init?(_ path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        size = Int(st.st_size); seconds = Int(st.st_mtim.tv_sec); nanoseconds = Int(st.st_mtim.tv_nsec)
    }
}
