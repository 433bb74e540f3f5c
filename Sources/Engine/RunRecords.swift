import Foundation
import Backbones
import Kernels
import Layers
import WeightsIO

/// Reading finished (or running) run folders back: the summaries `tlab runs` and `tlab compare` show, and
/// re-evaluating a run's best head (`tlab eval`).
public enum RunRecords {
    /// Run folders under `root`, newest first.
    public static func list(root: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted(by: >).map { (root as NSString).appendingPathComponent($0) }
    }

    /// A run folder by path or by id under `root` (a unique prefix of the id is enough).
    public static func resolve(_ idOrPath: String, root: String) throws -> String {
        if FileManager.default.fileExists(atPath: (idOrPath as NSString).appendingPathComponent("config.json")) { return idOrPath }
        let matches = list(root: root).filter { ($0 as NSString).lastPathComponent.hasPrefix(idOrPath) }
        guard matches.count == 1 else {
            throw ExperimentError(matches.isEmpty ? "no run '\(idOrPath)' under \(root)" : "'\(idOrPath)' matches \(matches.count) runs; give more of the id")
        }
        return matches[0]
    }

    public static func summary(_ run: String) -> [String: Any]? {
        guard let d = FileManager.default.contents(atPath: (run as NSString).appendingPathComponent("summary.json")) else { return nil }
        return try? JSONSerialization.jsonObject(with: d) as? [String: Any]
    }

    /// The last event of a run's log (for runs still going or that failed).
    public static func lastEvent(_ run: String) -> [String: Any]? {
        guard let text = try? String(contentsOfFile: (run as NSString).appendingPathComponent("metrics.jsonl"), encoding: .utf8),
              let line = text.split(separator: "\n").last else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    /// Recomputes a feature-extraction run's validation metrics with its best head.
    public static func evaluate(_ run: String, workspace: ExperimentPaths = ExperimentPaths()) throws -> ClassificationMetrics {
        guard let cfgData = FileManager.default.contents(atPath: (run as NSString).appendingPathComponent("config.json")) else {
            throw ExperimentError("\(run): no config.json")
        }
        let c = try ExperimentConfig.decode(cfgData)
        let (data, _, valIdx, positive) = try Experiment.loadData(c, workspace: workspace)
        let net = try PretrainedWeights.load(arch: c.backbone, from: PretrainedWeights.defaultPath(arch: c.backbone, directory: workspace.weights))
        let crop = c.resolution ?? net.spec.preprocessing.resolution
        let features = try FeatureExtraction.features(of: valIdx.map { data.samples[$0].path }, backbone: net, resize: crop, crop: crop,
                                                      batchSize: c.batchSize)
        let trainer = HeadTrainer(config: c, classNames: data.classNames, positive: positive)
        var g = SeededGenerator(seed: 0)
        let head = trainer.makeHead(features: net.spec.featureDimension, generator: &g)
        let best = try Safetensors.read(path: (run as NSString).appendingPathComponent("checkpoints/best.safetensors"))
        let targets = Dictionary(uniqueKeysWithValues: head.namedParameters)
        guard Set(best.names) == Set(targets.keys) else { throw ExperimentError("\(run): best checkpoint does not fit the configured head") }
        for (name, t) in best.entries {
            guard let p = targets[name], p.value.count == t.count else { throw ExperimentError("\(run): \(name) has the wrong shape") }
            p.value.data.update(from: t.data, count: t.count)
        }
        return trainer.evaluate(head, features, valIdx.map { data.samples[$0].label }, valIdx.map { data.samples[$0].group }).0
    }
}
