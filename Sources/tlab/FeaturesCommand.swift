import ArgumentParser
import Backbones
import Engine
import Foundation
import ImageData
import WeightsIO

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute (or reuse) a frozen backbone's pooled features for a dataset, in the feature cache.",
        discussion: "The cache key covers the weights, backbone, preprocessing and every image's content, so a cached entry is never stale; experiments/cache/ is safe to delete.")

    @Option(help: "elpv, a folder (root/CLASS/*.png) or a CSV manifest (path,label[,group]).") var dataset = "elpv"
    @Option(help: "ELPV data folder.") var elpvRoot = ExperimentPaths().elpvRoot
    @Option(help: "Backbone.") var backbone = "efficientnet_lite0"
    @Option(help: "Weights file (default: NAME.safetensors in the home's weights/ folder).") var weights: String?
    @Option(help: "Input side (default: the backbone's own).") var res: Int?
    @Option(help: "Batch size.") var batch = 32
    @Option(help: "Cache folder.") var cache = ExperimentPaths().cache
    @Flag(help: "One JSON line with the result.") var json = false

    func run() throws {
        let t0 = now()
        let data: LabeledDataset
        switch dataset {
        case "elpv": data = try ELPV.load(root: elpvRoot)
        case let p where p.hasSuffix(".csv"): data = try LabeledDataset.csvManifest(path: p)
        default: data = try LabeledDataset.imageFolder(root: dataset).dataset
        }
        if data.skippedFiles > 0 && !json { print(skippedFilesNote(data.skippedFiles, dataset: data.name)) }
        let weightsPath = weights ?? ExperimentPaths().weightsFile(backbone)
        let net = try PretrainedWeights.load(arch: backbone, from: weightsPath)
        let crop = res ?? net.spec.preprocessing.resolution
        // Square datasets keep their whole field of view: resize straight to the crop size.
        let resize = crop
        let paths = data.samples.map(\.path)
        let key = FeatureCache.Key(weights: try sha256Hex(ofFile: weightsPath), backbone: backbone, boundary: "features",
                                   preprocessing: FeatureExtraction.describe(resize: resize, crop: crop, mean: net.spec.preprocessing.mean, std: net.spec.preprocessing.std),
                                   images: try contentHashes(paths))
        let store = FeatureCache(directory: cache)
        let hashed = now()
        var hit = true
        if store.load(key) == nil {
            hit = false
            let f = try FeatureExtraction.features(of: paths, backbone: net, resize: resize, crop: crop, batchSize: batch) { done in
                if !json { FileHandle.standardError.write("\r\(done)/\(paths.count) images".data(using: .utf8)!) }
            }
            if !json { FileHandle.standardError.write("\n".data(using: .utf8)!) }
            try store.store(f, for: key)
        }
        let total = now() - t0
        if json {
            print(jsonLine([("dataset", data.name), ("backbone", backbone), ("images", paths.count), ("cache_hit", hit),
                            ("hash_s", hashed - t0), ("wall_s", total), ("key", key.digest)]))
        } else {
            print("\(data.name): \(paths.count) images through \(backbone) at \(crop)×\(crop): \(hit ? "cache hit" : "computed") in \(String(format: "%.1f", total)) s (hashing \(String(format: "%.1f", hashed - t0)) s)")
        }
    }
}
