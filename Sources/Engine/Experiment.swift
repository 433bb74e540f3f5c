import Foundation
import Backbones
import ImageData
import Kernels
import WeightsIO

/// Where an experiment reads and writes: runs, feature cache, weights, the ELPV data.
public struct ExperimentPaths: Sendable {
    public var runs = "experiments/runs"
    public var cache = "experiments/cache"
    public var weights = "weights"
    public var elpvRoot = ".cache/elpv/elpv_dataset/data"
    public init() {}
}

public struct ExperimentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// One experiment, from config to run folder. Today it runs the feature-extraction strategy (every group
/// frozen, no augmentation): features come from the cache or one backbone pass, then only the head trains.
public enum Experiment {
    public struct Summary {
        public let runID: String, runPath: String
        public let best: ClassificationMetrics
        /// Metrics after the last epoch (what "with the default epochs" reports).
        public let last: ClassificationMetrics
        public let bestEpoch: Int, epochs: Int
        public let wallSeconds: Double, featureSeconds: Double
        public let cacheHit: Bool
    }

    /// Creates the run folder, records the split and the `started` event. `log` sends an event to `emit` and
    /// the run's log; a failed append (full disk) is kept and reported by `checkLog`.
    static func startRun(_ c: ExperimentConfig, data: LabeledDataset, train: [Int], validation: [Int], strategy: String,
                         workspace: ExperimentPaths, emit: @escaping ([String: Any]) -> Void) throws -> (RunFolder, RunLog) {
        let run = try RunFolder(root: workspace.runs, config: c)
        try run.writeJSON(["train": train, "validation": validation, "files": data.samples.map(\.path), "labels": data.labels], name: "split.json")
        let log = RunLog(run: run, emit: emit)
        log(["event": "started", "run": run.id, "strategy": strategy, "backbone": c.backbone, "dataset": data.name,
             "train": train.count, "validation": validation.count, "classes": data.classNames,
             "batchnorm": Dictionary(uniqueKeysWithValues: c.groups.map { ($0.key, $0.value.batchNorm.rawValue) })])
        return (run, log)
    }

    /// summary.json, confusion.json and the closing `summary` event, for either strategy.
    static func finish(run: RunFolder, strategy: String, c: ExperimentConfig, data: LabeledDataset, trainable: Int, total: Int,
                       best: ClassificationMetrics, bestEpoch: Int, last: ClassificationMetrics, epochs: Int, wall: Double,
                       extra: [String: Any], log: ([String: Any]) -> Void) throws {
        var summary: [String: Any] = [
            "run": run.id, "strategy": strategy, "backbone": c.backbone, "dataset": data.name,
            "trainable_params": trainable, "total_params": total,
            "epochs": epochs, "best_epoch": bestEpoch, "wall_s": wall,
            "val_acc": best.accuracy, "val_loss": best.loss, "macro_f1": best.macroF1,
            "per_class": Dictionary(uniqueKeysWithValues: data.classNames.enumerated().map { ($0.element, [
                "precision": best.precision[$0.offset], "recall": best.recall[$0.offset], "f1": best.f1[$0.offset],
                "support": best.support[$0.offset]] as [String: Any]) }),
            "per_group_acc": best.groupAccuracy, "final_val_acc": last.accuracy,
            "batchnorm": Dictionary(uniqueKeysWithValues: c.groups.map { ($0.key, $0.value.batchNorm.rawValue) }),
        ]
        summary.merge(extra) { a, _ in a }
        if let b = best.binaryAccuracy { summary["val_acc_binary"] = b }
        if let b = last.binaryAccuracy { summary["final_val_acc_binary"] = b }
        try run.writeJSON(summary, name: "summary.json")
        try run.writeJSON(["classes": data.classNames, "matrix": best.confusion, "rows": "truth", "columns": "prediction",
                           "epoch": bestEpoch], name: "confusion.json")
        var event: [String: Any] = ["event": "summary", "run": run.id, "val_acc": best.accuracy, "wall_s": wall]
        if let b = best.binaryAccuracy { event["val_acc_binary"] = b }
        log(event)
    }

    static func runFineTuning(_ c: ExperimentConfig, workspace: ExperimentPaths, emit: @escaping ([String: Any]) -> Void) throws -> Summary {
        let t0 = Date()
        let (data, trainIdx, valIdx, positive) = try loadData(c, workspace: workspace)
        let net = try PretrainedWeights.load(arch: c.backbone, from: PretrainedWeights.defaultPath(arch: c.backbone, directory: workspace.weights))
        let crop = c.resolution ?? net.spec.preprocessing.resolution
        let (run, log) = try startRun(c, data: data, train: trainIdx, validation: valIdx,
                                      strategy: c.unfreezeEvery != nil ? "gradual" : "fine-tuning", workspace: workspace, emit: emit)
        var g = SeededGenerator(seed: c.seed)
        let head = HeadTrainer(config: c, classNames: data.classNames, positive: positive).makeHead(features: net.spec.featureDimension, generator: &g)
        let tuner = FineTuner(config: c, net: net, head: head, data: data, crop: crop, positive: positive)
        guard let r = try tuner.train(trainIdx: trainIdx, valIdx: valIdx, run: run, log: log.callAsFunction) else {
            throw ExperimentError("run \(run.id) failed: see its metrics.jsonl")
        }
        try log.check()
        let trainable = Set(ExperimentConfig.groupOrder.filter { c.policies(atEpoch: c.epochs - 1)[$0]!.trainable })
        let trainableParams = head.parameterCount + net.groups.filter { trainable.contains($0.name) }.reduce(0) { acc, grp in
            acc + net.layers(inGroup: grp.name).reduce(0) { $0 + $1.parameterCount } }
        let wall = Date().timeIntervalSince(t0)
        try finish(run: run, strategy: c.unfreezeEvery != nil ? "gradual" : "fine-tuning", c: c, data: data, trainable: trainableParams,
                   total: head.parameterCount + net.features.parameterCount, best: r.best, bestEpoch: r.bestEpoch, last: r.last,
                   epochs: r.epochs, wall: wall, extra: [:], log: log.callAsFunction)
        try log.check()
        return Summary(runID: run.id, runPath: run.path, best: r.best, last: r.last, bestEpoch: r.bestEpoch, epochs: r.epochs,
                       wallSeconds: wall, featureSeconds: 0, cacheHit: false)
    }

    public static func loadData(_ c: ExperimentConfig, workspace: ExperimentPaths) throws
        -> (LabeledDataset, train: [Int], validation: [Int], positive: ((Int) -> Bool)?) {
        switch c.dataset.kind {
        case "elpv":
            let d = try ELPV.load(root: c.dataset.path ?? workspace.elpvRoot)
            let s = Split.stratified(labels: d.labels, validationFraction: c.split.validationFraction, seed: c.split.seed)
            return (d, s.train, s.validation, ELPV.isDefective(classIndex:))
        case "csv":
            let d = try LabeledDataset.csvManifest(path: c.dataset.path!)
            let s = Split.stratified(labels: d.labels, validationFraction: c.split.validationFraction, seed: c.split.seed)
            return (d, s.train, s.validation, nil)
        default:
            let (d, predefined) = try LabeledDataset.imageFolder(root: c.dataset.path!)
            if let p = predefined { return (d, p.train, p.validation, nil) }
            let s = Split.stratified(labels: d.labels, validationFraction: c.split.validationFraction, seed: c.split.seed)
            return (d, s.train, s.validation, nil)
        }
    }

    public static func run(_ c: ExperimentConfig, workspace: ExperimentPaths = ExperimentPaths(),
                           emit: @escaping ([String: Any]) -> Void = { _ in }) throws -> Summary {
        try c.validate(knownBackbones: Backbones.names)
        let fineTuning = c.groups.values.contains(where: \.trainable) || c.unfreezeEvery != nil || !c.augmentation.isNone
        if fineTuning { return try runFineTuning(c, workspace: workspace, emit: emit) }
        let t0 = Date()
        let (data, trainIdx, valIdx, positive) = try loadData(c, workspace: workspace)
        let weightsPath = PretrainedWeights.defaultPath(arch: c.backbone, directory: workspace.weights)
        let net = try PretrainedWeights.load(arch: c.backbone, from: weightsPath)
        let crop = c.resolution ?? net.spec.preprocessing.resolution
        let (run, log) = try startRun(c, data: data, train: trainIdx, validation: valIdx, strategy: "feature-extraction",
                                      workspace: workspace, emit: emit)

        // Features of every image, from the cache when nothing they depend on changed.
        let paths = data.samples.map(\.path)
        let key = FeatureCache.Key(weights: try sha256Hex(ofFile: weightsPath), backbone: c.backbone, boundary: "features",
                                   preprocessing: FeatureExtraction.describe(resize: crop, crop: crop, mean: net.spec.preprocessing.mean, std: net.spec.preprocessing.std),
                                   images: try contentHashes(paths))
        let cache = FeatureCache(directory: workspace.cache)
        let f0 = Date()
        var hit = true
        let features: Tensor
        if let cached = cache.load(key), cached.shape == [paths.count, net.spec.featureDimension] {
            features = cached
        } else {
            hit = false
            features = try FeatureExtraction.features(of: paths, backbone: net, resize: crop, crop: crop, batchSize: c.batchSize) { done in
                log(["event": "features", "done": done, "total": paths.count])
            }
            try cache.store(features, for: key)
        }
        let featureSeconds = Date().timeIntervalSince(f0)
        log(["event": "features_ready", "cache_hit": hit, "seconds": featureSeconds])

        func gather(_ idx: [Int]) -> Tensor {
            let d = features.shape[1], t = Tensor(uninitialized: [idx.count, d])
            for (r, i) in idx.enumerated() { (t.data + r * d).update(from: features.data + i * d, count: d) }
            return t
        }
        let trainer = HeadTrainer(config: c, classNames: data.classNames, positive: positive)
        let outcome = try trainer.train(train: gather(trainIdx), trainIdx.map { data.samples[$0].label },
                                        validation: gather(valIdx), valIdx.map { data.samples[$0].label },
                                        valGroups: valIdx.map { data.samples[$0].group }, run: run, emit: emit)
        guard case let .finished(best, bestEpoch, lastMetrics, epochs) = outcome else {
            if case let .failed(reason) = outcome { throw ExperimentError(reason) }
            fatalError("unreachable")
        }
        let wall = Date().timeIntervalSince(t0)
        var probe = SeededGenerator(seed: 0)
        let headParams = trainer.makeHead(features: net.spec.featureDimension, generator: &probe).parameterCount
        try finish(run: run, strategy: "feature-extraction", c: c, data: data, trainable: headParams,
                   total: headParams + net.features.parameterCount, best: best, bestEpoch: bestEpoch, last: lastMetrics,
                   epochs: epochs, wall: wall, extra: ["feature_s": featureSeconds, "feature_cache_hit": hit], log: log.callAsFunction)
        try log.check()
        return Summary(runID: run.id, runPath: run.path, best: best, last: lastMetrics, bestEpoch: bestEpoch, epochs: epochs,
                       wallSeconds: wall, featureSeconds: featureSeconds, cacheHit: hit)
    }
}
