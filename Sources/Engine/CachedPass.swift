import Foundation
import Backbones
import Kernels
import Layers
import WeightsIO

extension FeatureCache.Key {
    /// The key of a backbone pass over `files`: the weights file's hash, the backbone, where the pass stops
    /// (`features` for pooled features, `after-<group>` for a frozen prefix), the preprocessing at `crop`
    /// (images are resized straight to the crop: square datasets keep their whole field of view) and every
    /// image's content hash. The one place this key is built (`tlab features` and `Experiment` share it).
    public init(weightsFile: String, backbone: BackboneSpec, boundary: String, crop: Int, files: [String]) throws {
        let p = backbone.preprocessing
        self.init(weights: try sha256Hex(ofFile: weightsFile), backbone: backbone.name, boundary: boundary,
                  preprocessing: FeatureExtraction.describe(resize: crop, crop: crop, mean: p.mean, std: p.std), images: try contentHashes(files))
    }
}

extension TrainingEvent.Progress {
    /// `done` of `total` images `seconds` after the pass began: the rate so far and the time left at that rate.
    public static func measured(phase: String, done: Int, total: Int, seconds: Double) -> TrainingEvent.Progress {
        let rate = Double(done) / max(seconds, 1e-9)
        return .init(phase: phase, done: done, total: total, imagesPerSecond: rate, etaSeconds: Double(total - done) / max(rate, 1e-9))
    }
}

/// A frozen part of a backbone over a whole dataset, from the feature cache when nothing it depends on
/// changed, else one inference pass that is then cached: what a feature-extraction run, a run with a cached
/// frozen prefix and `tlab features` all do.
public struct CachedPass {
    public let net: Backbone
    /// The backbone's first `end` children run (all of them: pooled features).
    public let end: Int
    public let weightsFile: String
    public let crop: Int
    public let batchSize: Int

    public init(net: Backbone, through end: Int? = nil, weightsFile: String, crop: Int, batchSize: Int) {
        self.net = net; self.end = end ?? net.features.children.count; self.weightsFile = weightsFile; self.crop = crop; self.batchSize = batchSize
    }

    /// `features` when the pass covers the whole backbone, else `after-<group>` of the group it ends with.
    public var boundary: String {
        if end == net.features.children.count { return "features" }
        return "after-" + (net.groups.last { $0.children.upperBound <= end }?.name ?? "\(end)")
    }
    /// The `progress` events' phase.
    public var phase: String { boundary == "features" ? "features" : "prefix" }

    public struct Result {
        public let output: Tensor
        public let key: FeatureCache.Key
        public let cacheHit: Bool
        /// Seconds from the start of hashing to the output being ready.
        public let seconds: Double
        public let hashSeconds: Double
    }

    /// The output for `files`, in order. `progress` hears after every batch of a computed pass; if it throws,
    /// the pass ends there and nothing is cached.
    /// The cache is an optimisation: an entry that cannot be stored (an unwritable or invalid cache folder) is
    /// reported through `warn` and the computed output is returned all the same.
    public func run(_ files: [String], cache: FeatureCache, warn: (String) -> Void = { _ in },
                    progress: (TrainingEvent.Progress) throws -> Void = { _ in }) throws -> Result {
        let t0 = Date()
        let key = try FeatureCache.Key(weightsFile: weightsFile, backbone: net.spec, boundary: boundary, crop: crop, files: files)
        let hashed = Date()
        if let cached = cache.load(key), cached.shape.first == files.count {
            return Result(output: cached, key: key, cacheHit: true, seconds: Date().timeIntervalSince(t0), hashSeconds: hashed.timeIntervalSince(t0))
        }
        let prefix = end == net.features.children.count ? net.features : Sequential(Array(net.features.children[..<end]))
        let output = try FeatureExtraction.activations(of: files, through: prefix, preprocessing: net.spec.preprocessing, resize: crop, crop: crop,
                                                       batchSize: batchSize) { done in
            try progress(.measured(phase: phase, done: done, total: files.count, seconds: Date().timeIntervalSince(hashed)))
        }
        do { try cache.store(output, for: key) } catch {
            warn("\(cache.directory): cannot store the computed features in the cache (\(describeFileError(error))); going on without it")
        }
        return Result(output: output, key: key, cacheHit: false, seconds: Date().timeIntervalSince(t0), hashSeconds: hashed.timeIntervalSince(t0))
    }
}
