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

    public enum State: Equatable {
        case finished, running
        case failed(String)
        /// Stopped on request, or its process is gone: `tlab train --resume` continues it.
        case stopped, interrupted
    }

    /// What a run folder says about its run: finished (summary.json), failed, stopped, running (its owner
    /// process is alive) or interrupted (killed).
    public static func state(_ run: String) -> State {
        if summary(run) != nil { return .finished }
        let last = lastEvent(run)
        if last?["event"] as? String == "failed" { return .failed(last?["reason"] as? String ?? "") }
        if let text = try? String(contentsOfFile: (run as NSString).appendingPathComponent("owner.pid"), encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0 || errno == EPERM {
            return .running
        }
        return last?["event"] as? String == "stopped" ? .stopped : .interrupted
    }

    /// The last event of a run's log (for runs still going or that failed).
    public static func lastEvent(_ run: String) -> [String: Any]? {
        guard let text = try? String(contentsOfFile: (run as NSString).appendingPathComponent("metrics.jsonl"), encoding: .utf8),
              let line = text.split(separator: "\n").last else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
    }

    /// Recomputes a run's validation metrics with its best checkpoint (head, and backbone when it was fine-tuned).
    public static func evaluate(_ run: String, workspace: ExperimentPaths = ExperimentPaths()) throws -> ClassificationMetrics {
        guard let cfgData = FileManager.default.contents(atPath: (run as NSString).appendingPathComponent("config.json")) else {
            throw ExperimentError("\(run): no config.json")
        }
        let c = try ExperimentConfig.decode(cfgData)
        let (data, _, valIdx, positive) = try Experiment.loadData(c, workspace: workspace)
        let net = try PretrainedWeights.load(arch: c.backbone, from: PretrainedWeights.defaultPath(arch: c.backbone, directory: workspace.weights))
        let crop = c.resolution ?? net.spec.preprocessing.resolution
        let scorer = ClassifierHead(config: c, classNames: data.classNames, positive: positive)
        var g = SeededGenerator(seed: 0)
        let head = scorer.make(features: net.spec.featureDimension, generator: &g)
        let file = (run as NSString).appendingPathComponent("checkpoints/best.safetensors")
        try TrainingCheckpoint.loadModel(try Safetensors.read(path: file), backbone: net.features, head: head, file: file)
        let features = try FeatureExtraction.features(of: valIdx.map { data.samples[$0].path }, backbone: net, resize: crop, crop: crop,
                                                      batchSize: c.batchSize)
        return scorer.evaluate(head, features, valIdx.map { data.samples[$0].label }, valIdx.map { data.samples[$0].group }).0
    }
}
