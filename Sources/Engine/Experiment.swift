import Foundation
import Backbones
import ImageData
import Kernels
import Layers
import WeightsIO

public struct ExperimentError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// One experiment, from config to run folder. Feature extraction (every group frozen with inference-mode
/// BatchNorm, no augmentation) takes features from the cache or one backbone pass and trains only the head;
/// every other config trains on images, or on the cached output of its fixed prefix of groups. All go
/// through the same `Trainer` and can be stopped and resumed.
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

    public enum Outcome {
        case finished(Summary)
        /// Stopped on request; `tlab train --resume` continues it.
        case stopped(runID: String, runPath: String, epoch: Int)

        /// The summary of a finished run; a stopped one is an error here.
        public func summary() throws -> Summary {
            switch self {
            case .finished(let s): return s
            case .stopped(let id, _, let epoch): throw ExperimentError("run \(id) was stopped after epoch \(epoch); resume it with --resume \(id)")
            }
        }
    }

    /// Feature extraction when every group is a fixed function and nothing is augmented; otherwise the
    /// backbone runs on images (a frozen group with `stats-only` BatchNorm still moves its statistics).
    public static func strategy(of c: ExperimentConfig) -> Strategy {
        if c.unfreezeEvery != nil { return .gradual }
        return c.fixedPrefix.count == ExperimentConfig.groupOrder.count && c.augmentation.isNone ? .featureExtraction : .fineTuning
    }

    /// Starts a new run of `c`. The run's config.json names the dataset by its absolute path, so the run
    /// can be evaluated and resumed from any directory.
    public static func run(_ c: ExperimentConfig, paths: ExperimentPaths = ExperimentPaths(), control: TrainingControl = TrainingControl(),
                           emit: @escaping (TrainingEvent) -> Void = { _ in }) throws -> Outcome {
        try c.validate(knownBackbones: Backbones.names)
        var c = c
        c.dataset.path = c.dataset.path.map(absolutePath)
        let (data, trainIdx, valIdx, positive) = try loadData(c, paths: paths)
        let run = try RunFolder(root: paths.runs, config: c)
        let log = RunLog(run: run, emit: emit)
        return try endingWithEvent(log) {
            try run.write(RunSplit(train: trainIdx, validation: valIdx, files: data.samples.map(\.path), labels: data.labels,
                                   hashes: try contentHashes(data.samples.map(\.path))), name: "split.json")
            log(.started(.init(run: run.id, strategy: strategy(of: c).rawValue, backbone: c.backbone, dataset: data.name, train: trainIdx.count,
                               validation: valIdx.count, classes: data.classNames, groups: data.groupNames,
                               batchNorm: Dictionary(uniqueKeysWithValues: c.groups.map { ($0.key, $0.value.batchNorm.rawValue) }),
                               skippedFiles: data.skippedFiles, cache: absolutePath(paths.cache))))
            return try train(c, run: run, log: log, data: data, trainIdx: trainIdx, valIdx: valIdx, positive: positive,
                             resume: false, paths: paths, control: control)
        }
    }

    /// Continues the run in folder `runPath` from its `last` checkpoint: weights, optimiser state, schedule
    /// position, unfreezing stage and random streams, so it ends as the uninterrupted run would have.
    public static func resume(_ runPath: String, paths: ExperimentPaths = ExperimentPaths(), control: TrainingControl = TrainingControl(),
                              emit: @escaping (TrainingEvent) -> Void = { _ in }) throws -> Outcome {
        let c = try RunRecords.config(runPath)
        try c.validate(knownBackbones: Backbones.names)
        if FileManager.default.fileExists(atPath: (runPath as NSString).appendingPathComponent("summary.json")) {
            throw ExperimentError("\(runPath): the run has finished; nothing to resume")
        }
        let (data, _, _, positive) = try loadData(c, paths: paths)
        let split: RunSplit
        do { split = try RunRecords.split(runPath) } catch { throw ExperimentError("\(runPath)/split.json: missing or unreadable") }
        // Runs recorded before sample paths were absolute name them relative to the directory they ran in.
        let changes = split.changes(current: data.samples.map(\.path))
        guard split.files.map(absolutePath) == data.samples.map(\.path) else {
            let detail = changes.joined(separator: "; ")
            throw ExperimentError("\(runPath): the dataset's files differ from those the run started with (\(detail.isEmpty ? "their order changed" : detail)); it cannot be resumed")
        }
        // The same names with other content would resume a different experiment.
        if let changed = changes.first {
            throw ExperimentError("\(runPath): \(changed); it cannot be resumed")
        }
        let run = try RunFolder(existing: runPath)
        let log = RunLog(run: run, emit: emit)
        return try endingWithEvent(log) {
            try train(c, run: run, log: log, data: data, trainIdx: split.train, valIdx: split.validation, positive: positive,
                      resume: true, paths: paths, control: control)
        }
    }

    /// Runs `body` so that the session ends with exactly one terminal event: whatever throws after the run
    /// folder exists (data, disk, weights, NaN) is logged as `failed` with its reason before the error goes on
    /// — and before the folder's owner is released, so no viewer ever sees a failed run as killed.
    static func endingWithEvent(_ log: RunLog, _ body: () throws -> Outcome) throws -> Outcome {
        do {
            let outcome = try body()
            return outcome
        } catch let busy as RunFolder.Busy {
            // A refused second resume: the run belongs to another process, whose log stays as it is.
            throw busy
        } catch {
            log(.failed(.init(reason: "\(error)", epoch: log.epochInProgress, resumable: isTransient(error))))
            throw error
        }
    }

    /// Failures a later `--resume` can get past: the disk was full or a file could not be written.
    static func isTransient(_ error: Error) -> Bool {
        let text = "\(error)"
        return text.contains("No space left") || text.contains("could not append events") || text.contains("Disk quota")
    }

    /// The part `run` and `resume` share: model, inputs, trainer, and the files of a finished run.
    static func train(_ c: ExperimentConfig, run: RunFolder, log: RunLog, data: LabeledDataset, trainIdx: [Int], valIdx: [Int],
                      positive: ((Int) -> Bool)?, resume: Bool, paths: ExperimentPaths, control: TrainingControl) throws -> Outcome {
        let t0 = Date()
        try run.claim()
        // The terminal event is logged (by `endingWithEvent`) before this releases the folder.
        defer { run.release() }
        // The owner removes checkpoint temporaries of processes killed mid-write.
        if resume { run.removeStaleTemporaries() }
        do {
            return try trainClaimed(c, run: run, log: log, data: data, trainIdx: trainIdx, valIdx: valIdx, positive: positive,
                                    resume: resume, paths: paths, control: control, t0: t0)
        } catch {
            log(.failed(.init(reason: "\(error)", epoch: log.epochInProgress, resumable: isTransient(error))))
            throw error
        }
    }

    static func trainClaimed(_ c: ExperimentConfig, run: RunFolder, log: RunLog, data: LabeledDataset, trainIdx: [Int], valIdx: [Int],
                             positive: ((Int) -> Bool)?, resume: Bool, paths: ExperimentPaths, control: TrainingControl, t0: Date) throws -> Outcome {
        let strategy = strategy(of: c)
        let weightsPath = paths.weightsFile(c.backbone)
        let net = try PretrainedWeights.load(arch: c.backbone, from: weightsPath)
        let crop = c.resolution ?? net.spec.preprocessing.resolution
        var featureSeconds = 0.0, hit = false
        var inputs = TrainingInputs.images(net, crop: crop, augmentation: c.augmentation.policy)
        let featureExtraction = strategy == .featureExtraction
        let prefix = featureExtraction || paths.cacheFrozenPrefix ? cachedPrefix(c, net: net, crop: crop, images: data.samples.count) : nil
        if let prefix {
            let cached: Tensor
            do {
                (cached, featureSeconds, hit) = try cachedActivations(c, net: net, through: prefix.end, weightsPath: weightsPath,
                                                                      crop: crop, data: data, paths: paths, control: control,
                                                                      log: log.callAsFunction)
            } catch is StoppedDuringFeatures {
                log(.stopped(.init(epoch: 1, step: 0, epochStep: 0)))
                try log.check()
                return .stopped(runID: run.id, runPath: run.path, epoch: 0)
            }
            inputs = featureExtraction ? .features(cached) : .activations(cached, net, trunk: Sequential(Array(net.features.children[prefix.end...])))
        }
        let scorer = ClassifierHead(config: c, classNames: data.classNames, positive: positive)
        var g = SeededGenerator(seed: c.seed)
        let head = scorer.make(features: net.spec.featureDimension, generator: &g)
        let trainer = Trainer(config: c, inputs: inputs, head: head, data: data, trainIdx: trainIdx, valIdx: valIdx, scorer: scorer,
                              generator: g, run: run, control: control, cachesFlippedPrefix: paths.cacheFrozenPrefix, log: log.callAsFunction)
        if resume {
            // Killed before its first checkpoint: start over, which the fixed seeds make the same run.
            if FileManager.default.fileExists(atPath: run.checkpointPath("last")) { try trainer.restore(from: run.checkpointPath("last")) }
            log(.resumed(trainer.position))
        }
        let before = trainer.progress.elapsed
        switch try trainer.run() {
        case .failed(let reason): try log.check(); throw ExperimentError("run \(run.id) failed: \(reason)")
        case .stopped: try log.check(); return .stopped(runID: run.id, runPath: run.path, epoch: trainer.progress.epoch)
        case .finished: break
        }
        try log.check()
        let p = trainer.progress
        guard let best = p.best, let last = p.last else { throw ExperimentError("run \(run.id) ended without a validated epoch") }
        let trainable = Set(ExperimentConfig.groupOrder.filter { c.policies(atEpoch: p.epoch - 1)[$0]!.trainable })
        let trainableParams = head.parameterCount + (featureExtraction ? 0 : net.groups.filter { trainable.contains($0.name) }
            .reduce(0) { acc, grp in acc + net.layers(inGroup: grp.name).reduce(0) { $0 + $1.parameterCount } })
        // Wall time of the whole run: this session's setup and training plus earlier sessions' training.
        let wall = before + Date().timeIntervalSince(t0)
        let history = (try? RunLogReader.history(of: run.path)) ?? RunHistory()
        let epochSeconds = history.epochs.map(\.epochSeconds), rates = history.epochs.map(\.imagesPerSecond)
        let summary = RunSummary(
            run: run.id, strategy: strategy.rawValue, backbone: c.backbone, dataset: data.name, trainableParameters: trainableParams,
            totalParameters: head.parameterCount + net.features.parameterCount, epochs: p.epoch, bestEpoch: p.bestEpoch, wallSeconds: wall,
            epochSeconds: epochSeconds.isEmpty ? 0 : epochSeconds.reduce(0, +) / Double(epochSeconds.count),
            imagesPerSecond: rates.isEmpty ? 0 : rates.reduce(0, +) / Double(rates.count),
            valAccuracy: best.accuracy, valLoss: best.loss, macroF1: best.macroF1, valBinaryAccuracy: best.binaryAccuracy,
            perClass: best.classScores, groups: best.groupScores, finalValAccuracy: last.accuracy, finalValBinaryAccuracy: last.binaryAccuracy,
            batchNorm: Dictionary(uniqueKeysWithValues: c.groups.map { ($0.key, $0.value.batchNorm.rawValue) }),
            cachedGroups: prefix?.groups, featureSeconds: prefix == nil ? nil : featureSeconds, featureCacheHit: prefix == nil ? nil : hit)
        try run.write(ConfusionRecord(epoch: p.bestEpoch, classes: data.classNames, matrix: best.confusion), name: "confusion.json")
        // summary.json last: its presence marks the run finished.
        try run.write(summary, name: "summary.json")
        log(.summary(.init(run: run.id, valAccuracy: best.accuracy, valBinaryAccuracy: best.binaryAccuracy, bestEpoch: p.bestEpoch,
                           epochs: p.epoch, wallSeconds: wall)))
        try log.check()
        return .finished(Summary(runID: run.id, runPath: run.path, best: best, last: last, bestEpoch: p.bestEpoch, epochs: p.epoch,
                                 wallSeconds: wall, featureSeconds: featureSeconds, cacheHit: hit))
    }

    /// The fixed prefix a run may skip by caching its output (`ExperimentConfig.fixedPrefix`), and the index
    /// of the first backbone child after it — when the training images are not augmented and the cached
    /// activations of the whole dataset fit in 2 GiB.
    static func cachedPrefix(_ c: ExperimentConfig, net: Backbone, crop: Int, images: Int) -> (groups: [String], end: Int)? {
        guard c.augmentation.isNone, let end = fixedPrefixEnd(c, net: net) else { return nil }
        return activationFloats(net, through: end, crop: crop) * images * 4 <= 2 << 30 ? (c.fixedPrefix, end) : nil
    }

    /// The index of the first backbone child after the config's fixed prefix (`ExperimentConfig.fixedPrefix`),
    /// or nil when no group is fixed for the whole run.
    static func fixedPrefixEnd(_ c: ExperimentConfig, net: Backbone) -> Int? {
        guard let last = c.fixedPrefix.last else { return nil }
        return net.groups.first { $0.name == last }?.children.upperBound
    }

    /// Floats per image at the output of the backbone's first `end` children.
    static func activationFloats(_ net: Backbone, through end: Int, crop: Int) -> Int {
        activationShape(net, through: end, crop: crop).reduce(1, *)
    }

    /// One image's shape at the output of the backbone's first `end` children: pooled features' size is in the
    /// spec; an inner boundary's is found by running one blank image.
    static func activationShape(_ net: Backbone, through end: Int, crop: Int) -> [Int] {
        end == net.features.children.count ? [net.spec.featureDimension]
            : Array(Sequential(Array(net.features.children[..<end])).forward(Tensor(zeros: [1, 3, crop, crop]), mode: .inference).shape.dropFirst())
    }

    /// The output of the backbone's first `end` children for every image (`CachedPass`), with a `progress`
    /// event per batch and `features_ready` at the end; a stop request ends a computed pass at the next batch.
    static func cachedActivations(_ c: ExperimentConfig, net: Backbone, through end: Int, weightsPath: String, crop: Int,
                                  data: LabeledDataset, paths: ExperimentPaths, control: TrainingControl,
                                  log: (TrainingEvent) -> Void) throws -> (Tensor, Double, Bool) {
        let pass = CachedPass(net: net, through: end, weightsFile: weightsPath, crop: crop, batchSize: c.batchSize)
        let result = try pass.run(data.samples.map(\.path), cache: FeatureCache(directory: paths.cache), warn: { message in
            FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
        }) { progress in
            log(.progress(progress))
            // A stop during the backbone pass ends it at the next batch; nothing is cached half-done.
            if control.isStopRequested { throw StoppedDuringFeatures() }
        }
        log(.featuresReady(.init(cacheHit: result.cacheHit, seconds: result.seconds)))
        return (result.output, result.seconds, result.cacheHit)
    }

    struct StoppedDuringFeatures: Error {}

    /// The config's dataset and the train / validation indices of its split: the dataset's own (train/ and
    /// val/ folders) or the config's stratified or k-fold split.
    public static func loadData(_ c: ExperimentConfig, paths: ExperimentPaths) throws
        -> (LabeledDataset, train: [Int], validation: [Int], positive: ((Int) -> Bool)?) {
        let loaded = try c.dataset.load(paths: paths)
        let d = loaded.dataset
        // A train/ + val/ layout is the split; folds over it would mix the two.
        if let p = loaded.predefinedSplit {
            if c.split.folds != nil { throw ExperimentError("\(c.dataset.path ?? d.name): has train/ and val/ folders, which fix the split; remove split.folds") }
            return (d, p.train, p.validation, loaded.positive)
        }
        if let k = c.split.folds, k > d.samples.count {
            throw ExperimentError("config field `split.folds`: \(k) folds of \(d.samples.count) images leave some folds empty")
        }
        let s = c.split.indices(labels: d.labels)
        // A split that leaves either part empty would divide by zero later: refuse it with the counts.
        guard !s.train.isEmpty, !s.validation.isEmpty else {
            let field = c.split.folds == nil ? "split.validationFraction" : "split.folds"
            throw ExperimentError("config field `\(field)`: the split of \(d.samples.count) images leaves \(s.train.count) for training and "
                                  + "\(s.validation.count) for validation; both need at least one")
        }
        return (d, s.train, s.validation, loaded.positive)
    }
}
