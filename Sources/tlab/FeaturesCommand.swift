import ArgumentParser
import Backbones
import Engine
import Foundation

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compute (or reuse) a frozen backbone's pooled features for a dataset, in the feature cache.",
        discussion: "The cache key covers the weights, backbone, preprocessing and every image's content, so a cached entry is never stale; the cache folder is safe to delete. On a terminal a progress line shows the pass.")

    @Option(help: "elpv, a folder (root/CLASS/*.png) or a CSV manifest (path,label[,group]).") var dataset = "elpv"
    @Option(help: "ELPV data folder.") var elpvRoot = ExperimentPaths().elpvRoot
    @Option(help: "Backbone.") var backbone = "efficientnet_lite0"
    @Option(help: "Weights file (default: NAME.safetensors in the home's weights/ folder).") var weights: String?
    @Option(parsing: .unconditional, help: "Input side (default: the backbone's own).") var res: Int?
    @Option(parsing: .unconditional, help: "Batch size.") var batch = 32
    @Option(help: "Cache folder.") var cache = ExperimentPaths().cache
    @Flag(help: "One JSON line with the result.") var json = false

    /// What `features --json` prints.
    struct Line: Encodable {
        var dataset, backbone: String
        var images: Int
        var cacheHit: Bool
        var hashSeconds, wallSeconds: Double
        var key: String
        var skippedFiles: Int
        enum CodingKeys: String, CodingKey {
            case dataset, backbone, images, key
            case cacheHit = "cache_hit", hashSeconds = "hash_s", wallSeconds = "wall_s", skippedFiles = "skipped_files"
        }
    }

    func validate() throws {
        guard Backbones.spec(backbone) != nil else { throw ValidationError("unknown backbone '\(backbone)'; known: \(Backbones.names.joined(separator: ", "))") }
        guard batch > 0 else { throw ValidationError("--batch must be positive (got \(batch))") }
        if let res, !(32...1024).contains(res) { throw ValidationError("--res must be in 32…1024 (got \(res))") }
    }

    func run() throws {
        let t0 = Date()
        var paths = ExperimentPaths()
        paths.elpvRoot = elpvRoot
        let data = try DatasetConfig(argument: dataset).load(paths: paths).dataset
        if data.skippedFiles > 0 && !json { print(skippedFilesNote(data.skippedFiles, dataset: data.name)) }
        let weightsPath = weights ?? paths.weightsFile(backbone)
        let net = try PretrainedWeights.load(arch: backbone, from: weightsPath)
        let crop = res ?? net.spec.preprocessing.resolution
        let files = data.samples.map(\.path)
        let progress = ProgressLine(json: json)
        let pass = CachedPass(net: net, weightsFile: weightsPath, crop: crop, batchSize: batch)
        let result = try pass.run(files, cache: FeatureCache(directory: cache), warn: { message in
            progress.clear(); FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
        }) { progress.show($0) }
        progress.clear()
        let total = Date().timeIntervalSince(t0)
        if json {
            print(try JSONLines.string(Line(dataset: data.name, backbone: backbone, images: files.count, cacheHit: result.cacheHit,
                                            hashSeconds: result.hashSeconds, wallSeconds: total, key: result.key.digest, skippedFiles: data.skippedFiles)))
        } else {
            print("\(data.name): \(files.count) images through \(backbone) at \(crop)×\(crop): \(result.cacheHit ? "cache hit" : "computed") in \(String(format: "%.1f", total)) s (hashing \(String(format: "%.1f", result.hashSeconds)) s)")
        }
    }
}
