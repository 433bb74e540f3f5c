import Foundation
import Backbones
import ImageData
import Kernels
import Layers
import WeightsIO

/// summary.json: what a finished run achieved and what it cost. Its presence marks the run finished.
public struct RunSummary: Codable, Sendable, Equatable {
    public var run, strategy, backbone, dataset: String
    public var trainableParameters, totalParameters: Int
    /// Epochs trained, and the epoch with the lowest validation loss (the `best` checkpoint's).
    public var epochs, bestEpoch: Int
    public var wallSeconds: Double
    /// Mean wall seconds per epoch and training images per second over the run's epochs.
    public var epochSeconds, imagesPerSecond: Double
    /// At the best epoch.
    public var valAccuracy, valLoss, macroF1: Double
    public var valBinaryAccuracy: Double?
    public var perClass: [TrainingEvent.ClassScore]
    public var groups: [String: TrainingEvent.GroupScore]
    /// After the last epoch.
    public var finalValAccuracy: Double
    public var finalValBinaryAccuracy: Double?
    public var batchNorm: [String: String]
    /// Groups whose output came from the feature cache, and the seconds that pass took (0 on a cache hit).
    public var cachedGroups: [String]?
    public var featureSeconds: Double?
    public var featureCacheHit: Bool?

    enum CodingKeys: String, CodingKey {
        case run, strategy, backbone, dataset, epochs, groups
        case trainableParameters = "trainable_params", totalParameters = "total_params", bestEpoch = "best_epoch"
        case wallSeconds = "wall_s", epochSeconds = "epoch_s", imagesPerSecond = "img_per_s"
        case valAccuracy = "val_acc", valLoss = "val_loss", macroF1 = "macro_f1", valBinaryAccuracy = "val_acc_binary"
        case perClass = "per_class", finalValAccuracy = "final_val_acc", finalValBinaryAccuracy = "final_val_acc_binary"
        case batchNorm = "batchnorm", cachedGroups = "cached_groups", featureSeconds = "feature_s", featureCacheHit = "feature_cache_hit"
    }
}

/// confusion.json: the best epoch's confusion matrix (rows: truth, columns: prediction).
public struct ConfusionRecord: Codable, Sendable, Equatable {
    public var epoch: Int
    public var classes: [String]
    public var matrix: [[Int]]
    public init(epoch: Int, classes: [String], matrix: [[Int]]) { self.epoch = epoch; self.classes = classes; self.matrix = matrix }
}

/// validation.json: every validation image's outcome at the best epoch, with an absolute path.
public struct ValidationReport: Codable, Sendable, Equatable {
    public var epoch: Int
    public var classes: [String]
    public var samples: [ValidationSample]
    public init(epoch: Int, classes: [String], samples: [ValidationSample]) { self.epoch = epoch; self.classes = classes; self.samples = samples }
}

/// split.json: which dataset samples a run trained and validated on, so eval, compare and resume use the
/// same split whatever happened to the folder since.
public struct RunSplit: Codable, Sendable, Equatable {
    public var train, validation: [Int]
    public var files: [String]
    public var labels: [Int]
    /// SHA-256 of every file's bytes when the run started (absent in runs recorded before it was added), so
    /// eval and resume can tell when an image changed under the same name.
    public var hashes: [String]?
    public init(train: [Int], validation: [Int], files: [String], labels: [Int], hashes: [String]? = nil) {
        self.train = train; self.validation = validation; self.files = files; self.labels = labels; self.hashes = hashes
    }

    /// How the dataset as it is now differs from the one the run recorded, in one line each (empty when it
    /// does not): images added or removed, and recorded images whose content changed. Nothing is said about
    /// content when the split has no hashes (a run recorded before they were).
    public func changes(current: [String]) -> [String] {
        var notes: [String] = []
        let recorded = files.map(absolutePath), recordedSet = Set(recorded), currentSet = Set(current)
        let added = current.filter { !recordedSet.contains($0) }, removed = recorded.filter { !currentSet.contains($0) }
        if !added.isEmpty { notes.append("\(added.count) image\(added.count == 1 ? "" : "s") added to the dataset since the run (first: \(added[0])); they are not used") }
        if !removed.isEmpty { notes.append("\(removed.count) of the run's image\(removed.count == 1 ? " is" : "s are") gone from the dataset (first: \(removed[0]))") }
        if let hashes, hashes.count == recorded.count {
            let present = recorded.indices.filter { FileManager.default.fileExists(atPath: recorded[$0]) }
            let now = (try? contentHashes(present.map { recorded[$0] })) ?? []
            let changed = zip(present, now).filter { hashes[$0.0] != $0.1 }.map { recorded[$0.0] }
            if !changed.isEmpty { notes.append("\(changed.count) of the run's image\(changed.count == 1 ? " has" : "s have") changed since the run (first: \(changed[0]))") }
        }
        return notes
    }
}

/// Reading run folders back, typed: `tlab runs`, `compare`, `eval` and the workbench go through here.
public enum RunRecords {
    /// Run folders under `root`, newest first.
    public static func list(root: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted(by: >).map { (root as NSString).appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: ($0 as NSString).appendingPathComponent("config.json")) }
    }

    /// A run folder by path or by id under `root`: the exact id first, else a unique prefix of one.
    public static func resolve(_ idOrPath: String, root: String) throws -> String {
        if FileManager.default.fileExists(atPath: (idOrPath as NSString).appendingPathComponent("config.json")) { return idOrPath }
        let all = list(root: root)
        if let exact = all.first(where: { ($0 as NSString).lastPathComponent == idOrPath }) { return exact }
        let matches = all.filter { ($0 as NSString).lastPathComponent.hasPrefix(idOrPath) }
        guard matches.count == 1 else {
            if matches.isEmpty && !FileManager.default.fileExists(atPath: root) { throw ExperimentError("\(root): no such runs folder") }
            throw ExperimentError(matches.isEmpty ? "no run '\(idOrPath)' under \(root)" : "'\(idOrPath)' matches \(matches.count) runs; give more of the id")
        }
        return matches[0]
    }

    static func read<T: Decodable>(_ type: T.Type, _ run: String, _ name: String) throws -> T? {
        let path = (run as NSString).appendingPathComponent(name)
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONLines.decoder().decode(T.self, from: d) } catch {
            throw ExperimentError("\(path): unreadable (\(RunLogReader.describe(error)))")
        }
    }

    public static func config(_ run: String) throws -> ExperimentConfig {
        let path = (run as NSString).appendingPathComponent("config.json")
        guard let d = FileManager.default.contents(atPath: path) else { throw ExperimentError("\(run): no config.json; not a run folder") }
        return try ExperimentConfig.decode(d)
    }
    /// nil until the run has finished.
    public static func summary(_ run: String) throws -> RunSummary? { try read(RunSummary.self, run, "summary.json") }
    public static func confusion(_ run: String) throws -> ConfusionRecord? { try read(ConfusionRecord.self, run, "confusion.json") }
    /// nil until the run has validated once.
    public static func validation(_ run: String) throws -> ValidationReport? { try read(ValidationReport.self, run, "validation.json") }
    public static func split(_ run: String) throws -> RunSplit {
        guard let s = try read(RunSplit.self, run, "split.json") else { throw ExperimentError("\(run)/split.json: missing") }
        return s
    }

    public enum State: Equatable, Sendable {
        case finished, running, paused
        /// Failed with this reason; `resumable` when a resume can help (e.g. after a full disk was cleared).
        case failed(String, resumable: Bool)
        /// Stopped on request: `tlab train --resume` continues it.
        case stopped
        /// Its process is gone without a closing event (killed): `tlab train --resume` continues it.
        case interrupted

        public var canResume: Bool {
            switch self {
            case .stopped, .interrupted: true
            case .failed(_, let resumable): resumable
            default: false
            }
        }
        public var label: String {
            switch self {
            case .finished: "finished"
            case .running: "running"
            case .paused: "paused"
            case .failed: "failed"
            case .stopped: "stopped"
            case .interrupted: "interrupted"
            }
        }
    }

    /// What a run folder says about its run, from summary.json, the log's closing event and whether the process
    /// that owns it is alive.
    public static func state(_ run: String, history: RunHistory) -> State {
        if FileManager.default.fileExists(atPath: (run as NSString).appendingPathComponent("summary.json")) { return .finished }
        if RunOwner.isAlive(run) { return history.isPaused ? .paused : .running }
        switch history.ending {
        case .failed(let f): return .failed(f.reason, resumable: f.resumable)
        case .stopped: return .stopped
        case .summary: return .finished
        default: return .interrupted
        }
    }

    public static func state(_ run: String) -> State {
        state(run, history: (try? RunLogReader.history(of: run)) ?? RunHistory())
    }

    /// Recomputes a run's validation metrics with its best checkpoint (head, and backbone when it was fine-tuned)
    /// on the validation images its split.json names. `progress` hears after every batch of the backbone pass
    /// (phase `eval`).
    /// `note` hears, before the pass, how the dataset changed since the run (`RunSplit.changes`): the
    /// evaluation uses the images split.json records either way.
    public static func evaluate(_ run: String, paths: ExperimentPaths = ExperimentPaths(),
                                note: (String) -> Void = { _ in },
                                progress: (TrainingEvent.Progress) -> Void = { _ in }) throws -> ClassificationMetrics {
        try evaluateReport(run, paths: paths, note: note, progress: progress).metrics
    }

    /// `evaluate`, with every validation image's outcome as validation.json records it (absolute paths,
    /// probabilities, subgroups), for the epoch of the best checkpoint as far as the log knows it.
    public static func evaluateReport(_ run: String, paths: ExperimentPaths = ExperimentPaths(),
                                      note: (String) -> Void = { _ in },
                                      progress: (TrainingEvent.Progress) -> Void = { _ in }) throws -> (metrics: ClassificationMetrics, report: ValidationReport) {
        let c = try config(run)
        let split = try split(run)
        // The dataset as it is now only for class names and subgroups — never re-split.
        let loaded = try c.dataset.load(paths: paths)
        let data = loaded.dataset, positive = loaded.positive
        for line in split.changes(current: data.samples.map(\.path)) {
            note("\((run as NSString).lastPathComponent): \(line); evaluating the \(split.validation.count) validation images split.json records")
        }
        let valIdx = split.validation
        guard valIdx.allSatisfy({ $0 < split.files.count }) else { throw ExperimentError("\(run)/split.json: indices out of range") }
        let net = try PretrainedWeights.load(arch: c.backbone, from: paths.weightsFile(c.backbone))
        let crop = c.resolution ?? net.spec.preprocessing.resolution
        let scorer = ClassifierHead(config: c, classNames: data.classNames, positive: positive)
        var g = SeededGenerator(seed: 0)
        let head = scorer.make(features: net.spec.featureDimension, generator: &g)
        let file = (run as NSString).appendingPathComponent("checkpoints/best.safetensors")
        try TrainingCheckpoint.loadModel(try Safetensors.read(path: file), backbone: net.features, head: head, file: file)
        let groupOf = Dictionary(data.samples.map { ($0.path, $0.group) }, uniquingKeysWith: { a, _ in a })
        let files = split.files.map(absolutePath)
        let t0 = Date()
        let features = try FeatureExtraction.features(of: valIdx.map { files[$0] }, backbone: net, resize: crop, crop: crop,
                                                      batchSize: c.batchSize) { done in
            progress(.measured(phase: "eval", done: done, total: valIdx.count, seconds: Date().timeIntervalSince(t0)))
        }
        let (metrics, samples) = scorer.evaluate(head, features, valIdx.map { split.labels[$0] }, valIdx.map { groupOf[files[$0]] ?? nil },
                                                 files: valIdx.map { files[$0] }, indices: valIdx)
        let epoch = (try? validation(run))?.epoch ?? (try? RunLogReader.history(of: run))?.bestEpoch?.epoch ?? 0
        return (metrics, ValidationReport(epoch: epoch, classes: data.classNames, samples: samples))
    }
}

/// The process training in a run folder, recorded in `owner.pid` as "PID START" (START: the process's start
/// time in clock ticks since boot, from /proc), so a viewer can tell a live run from a killed one even after
/// the pid is reused.
public enum RunOwner {
    static func file(_ run: String) -> String { (run as NSString).appendingPathComponent("owner.pid") }

    /// Start time of process `pid` (Linux /proc; nil where unavailable).
    static func startTime(of pid: Int32) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after "(comm)": state is field 3, starttime field 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? UInt64(fields[19]) : nil
    }

    static func record() -> String { "\(getpid()) \(startTime(of: getpid()) ?? 0)\n" }

    /// The owning process's pid, if the folder is owned by a live process.
    public static func livePID(_ run: String) -> Int32? {
        guard let text = try? String(contentsOfFile: file(run), encoding: .utf8) else { return nil }
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard let pidText = parts.first, let pid = Int32(pidText), pid > 0 else { return nil }
        guard kill(pid, 0) == 0 || errno == EPERM else { return nil }
        if parts.count > 1, let recorded = UInt64(parts[1]), recorded != 0, let now = startTime(of: pid), now != recorded { return nil }
        return pid
    }

    public static func isAlive(_ run: String) -> Bool { livePID(run) != nil }
}

/// `path` made absolute against the current directory, so run records resolve from anywhere
/// (`FilePath.absolute`, which dataset loading uses too).
public func absolutePath(_ path: String) -> String { FilePath.absolute(path) }

/// One run as a list or a comparison shows it, whatever its state: finished runs from summary.json, the
/// others (running, stopped, failed, killed) from their log. Built by `RunOverview.load`.
public struct RunOverview: Sendable {
    public var id: String, path: String
    public var config: ExperimentConfig
    public var state: RunRecords.State
    public var history: RunHistory
    public var summary: RunSummary?

    public static func load(_ path: String) throws -> RunOverview {
        let history = try RunLogReader.history(of: path)
        return RunOverview(id: (path as NSString).lastPathComponent, path: path, config: try RunRecords.config(path),
                           state: RunRecords.state(path, history: history), history: history, summary: try RunRecords.summary(path))
    }

    public var strategy: String { summary?.strategy ?? history.start?.strategy ?? Experiment.strategy(of: config).rawValue }
    public var dataset: String { summary?.dataset ?? history.start?.dataset ?? config.dataset.kind.rawValue }
    /// The epoch results are reported at: the best epoch (lowest validation loss).
    public var bestEpoch: TrainingEvent.Epoch? { history.bestEpoch }
    public var bestAccuracy: Double? { summary?.valAccuracy ?? bestEpoch?.valAccuracy }
    public var bestBinaryAccuracy: Double? { summary?.valBinaryAccuracy ?? bestEpoch?.valBinaryAccuracy }
    public var wallSeconds: Double? { summary?.wallSeconds ?? history.epochs.last?.elapsedSeconds }
    public var epochsDone: Int { history.epochs.last?.epoch ?? 0 }
    public var perClass: [TrainingEvent.ClassScore] { summary?.perClass ?? bestEpoch?.perClass ?? [] }
    public var groups: [String: TrainingEvent.GroupScore] { summary?.groups ?? bestEpoch?.groups ?? [:] }
    public var classes: [String] { history.start?.classes ?? perClass.map(\.name) }
    /// The state with its reason, as one line.
    public var stateDescription: String {
        switch state {
        case .failed(let reason, _): "failed: \(reason)"
        case .running, .paused:
            if let p = history.progress { "\(state.label): \(p.phase) \(p.done)/\(p.total)" }
            else if let s = history.lastStep { "\(state.label): epoch \(s.epoch)/\(config.epochs) step \(s.epochStep)/\(s.stepsPerEpoch), ETA \(Int(s.etaSeconds.rounded())) s" }
            else { "\(state.label): epoch \(epochsDone + 1)/\(config.epochs)" }
        default: state.label
        }
    }
}
