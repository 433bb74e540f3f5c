import Foundation
import Kernels
import WeightsIO

/// Frozen-prefix activations on disk, so that a head experiment pays for the backbone once.
///
/// The key is a SHA-256 over everything the features depend on — the weights' hash, the backbone and the
/// boundary layer, the preprocessing, and every image's content hash in order — so an entry is never stale:
/// change any of them and the key changes. Entries are plain safetensors files; deleting the folder is always
/// safe. The folder is kept under `limitBytes` by removing the least recently used entries.
public struct FeatureCache {
    public let directory: String
    public let limitBytes: Int

    public init(directory: String, limitBytes: Int = 4 << 30) {
        self.directory = directory; self.limitBytes = limitBytes
    }

    /// What the cached features depend on.
    public struct Key: Equatable {
        public var weights: String, backbone: String, boundary: String, preprocessing: String
        public var images: [String]

        public init(weights: String, backbone: String, boundary: String, preprocessing: String, images: [String]) {
            self.weights = weights; self.backbone = backbone; self.boundary = boundary
            self.preprocessing = preprocessing; self.images = images
        }

        public var digest: String {
            var h = SHA256()
            for part in [weights, backbone, boundary, preprocessing] + images { h.update(Array(part.utf8)); h.update([0]) }
            return h.finalize()
        }
    }

    func path(_ key: Key) -> String { (directory as NSString).appendingPathComponent("\(key.digest).safetensors") }

    /// The cached features, or nil. A damaged entry is deleted and reported as a miss.
    public func load(_ key: Key) -> Tensor? {
        let p = path(key)
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        guard let sd = try? Safetensors.read(path: p), let t = sd["features"], sd.metadata["key"] == key.digest else {
            try? FileManager.default.removeItem(atPath: p)
            return nil
        }
        // Touch for least-recently-used eviction.
        try? FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: p)
        return t
    }

    public func store(_ features: Tensor, for key: Key) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Safetensors.write(StateDict(entries: [(name: "features", tensor: features)],
                                        metadata: ["key": key.digest, "backbone": key.backbone, "boundary": key.boundary,
                                                   "preprocessing": key.preprocessing, "images": String(key.images.count)]),
                              to: path(key))
        evict()
    }

    /// Removes least recently used entries until the folder fits the limit.
    func evict() {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else { return }
        var entries = names.filter { $0.hasSuffix(".safetensors") }.compactMap { name -> (String, Date, Int)? in
            let p = (directory as NSString).appendingPathComponent(name)
            guard let a = try? fm.attributesOfItem(atPath: p) else { return nil }
            return (p, a[.modificationDate] as? Date ?? .distantPast, (a[.size] as? NSNumber)?.intValue ?? 0)
        }
        var total = entries.reduce(0) { $0 + $1.2 }
        entries.sort { $0.1 < $1.1 }
        while total > limitBytes, let oldest = entries.first {
            try? fm.removeItem(atPath: oldest.0)
            total -= oldest.2
            entries.removeFirst()
        }
    }
}

/// SHA-256 of each file's bytes (the image part of a cache key).
public func contentHashes(_ paths: [String]) throws -> [String] {
    var out = [String](repeating: "", count: paths.count)
    try out.withUnsafeMutableBufferPointer { slots in
        let slots = slots
        try Parallel.forEachIndex(paths.count, grain: 16) { i in slots[i] = try sha256Hex(ofFile: paths[i]) }
    }
    return out
}
