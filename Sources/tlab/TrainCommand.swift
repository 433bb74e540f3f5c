import ArgumentParser
import Backbones
import Engine
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an experiment headless and write its run folder under experiments/runs/.",
        discussion: "With --json every event is a JSON line on stdout; the last line is the summary.")

    @Option(help: "Experiment config (JSON).") var config: String?
    @Option(help: "Preset: \(ExperimentConfig.presetNames.joined(separator: ", ")).") var preset: String?
    @Option(help: "Dataset: elpv, a folder or a CSV manifest.") var dataset: String?
    @Option(help: "Backbone.") var backbone: String?
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Learning rate of the new head.") var headLr: Double?
    @Option(help: "Folder for run folders.") var runs = "experiments/runs"
    @Option(help: "Feature cache folder.") var cache = "experiments/cache"
    @Flag(help: "JSON lines on stdout.") var json = false

    func validate() throws {
        guard (config == nil) != (preset == nil) else { throw ValidationError("give exactly one of --config FILE or --preset NAME") }
    }

    /// `elpv`, a CSV manifest (*.csv) or an image folder.
    static func datasetConfig(_ d: String) -> DatasetConfig {
        d == "elpv" ? DatasetConfig(kind: "elpv") : DatasetConfig(kind: d.hasSuffix(".csv") ? "csv" : "folder", path: d)
    }

    func run() throws {
        var c: ExperimentConfig
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else { throw ValidationError("\(config): cannot read") }
            c = try ExperimentConfig.decode(data)
        } else {
            c = try ExperimentConfig.preset(preset!, backbone: backbone ?? "efficientnet_lite0",
                                            dataset: Self.datasetConfig(dataset ?? "elpv"), headLR: headLr ?? 1e-3)
        }
        // With --config, the other options override the file's fields.
        if config != nil {
            if let backbone { c.backbone = backbone }
            if let dataset { c.dataset = Self.datasetConfig(dataset) }
            if let headLr { c.head.learningRate = headLr }
        }
        if let epochs { c.epochs = epochs }
        var paths = ExperimentPaths()
        paths.runs = runs; paths.cache = cache
        let summary = try Experiment.run(c, workspace: paths) { event in
            if json {
                if let data = try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]) {
                    print(String(decoding: data, as: UTF8.self)); fflush(stdout)
                }
            } else if let e = event["event"] as? String, e == "failed" {
                print("failed: \(event["reason"] ?? "")")
            } else if let e = event["event"] as? String, e == "epoch" {
                let ep = event["epoch"] as! Int, n = event["epochs"] as! Int
                if n <= 20 || ep == 1 || ep == n || ep % 10 == 0 {
                    print(String(format: "epoch %3d/%d  train loss %.4f  val loss %.4f  val acc %.1f %%%@", ep, n,
                                 event["train_loss"] as! Double, event["val_loss"] as! Double, 100 * (event["val_acc"] as! Double),
                                 (event["val_acc_binary"] as? Double).map { String(format: "  binary %.1f %%", 100 * $0) as NSString } ?? ""))
                }
            }
        }
        if !json {
            print(String(format: "run %@: final val acc %.1f %%%@; best epoch %d (lowest val loss) %.1f %%%@; %.1f s (features %.1f s, %@)",
                         summary.runID, 100 * summary.last.accuracy,
                         summary.last.binaryAccuracy.map { String(format: ", binary %.1f %%", 100 * $0) } ?? "",
                         summary.bestEpoch, 100 * summary.best.accuracy,
                         summary.best.binaryAccuracy.map { String(format: ", binary %.1f %%", 100 * $0) } ?? "",
                         summary.wallSeconds, summary.featureSeconds, summary.cacheHit ? "cache hit" : "computed"))
        }
    }
}
