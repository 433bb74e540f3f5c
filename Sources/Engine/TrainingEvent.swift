import Foundation

/// What a run reports as it goes: the contract between the engine and every viewer. The engine hands each
/// event to its caller and appends its JSON form, one line each, to the run's metrics.jsonl; `RunLogReader`
/// turns those lines back into the same values. Every field that names a position means one thing:
/// - `epoch`: the 1-based epoch the event belongs to (in progress, or just completed for `epoch` events);
/// - `step`: optimiser steps completed in the whole run (the schedule's position);
/// - `epoch_step`: steps completed within `epoch`.
public enum TrainingEvent: Codable, Sendable, Equatable {
    case started(Start)
    /// A long pass before training (features of a frozen backbone, or a frozen prefix's activations).
    case progress(Progress)
    case featuresReady(FeaturesReady)
    /// A run continued from its `last` checkpoint; epochs and steps after `position` will be repeated in the log,
    /// and readers keep the last copy.
    case resumed(Position)
    case step(Step)
    case epoch(Epoch)
    /// The trainable groups changed at the start of `epoch` (gradual unfreezing).
    case unfroze(Unfroze)
    case checkpoint(Checkpoint)
    case paused(Position)
    case continued(Position)
    /// Stopped on request; the `last` checkpoint holds everything `--resume` needs. A terminal event.
    case stopped(Position)
    case earlyStop(EarlyStop)
    /// The run ended with an error. A terminal event.
    case failed(Failure)
    /// The run finished; summary.json is written. A terminal event.
    case summary(Summary)

    /// The log format this engine writes, carried by `started`; readers refuse logs of a newer format.
    public static let formatVersion = 2

    public struct Start: Codable, Sendable, Equatable {
        public var version: Int
        public var run, strategy, backbone, dataset: String
        public var train, validation: Int
        public var classes: [String]
        /// Subgroups of the validation set (ELPV: mono, poly), empty when the dataset has none.
        public var groups: [String]
        public var batchNorm: [String: String]
        /// Files in the dataset's folders that are not images and were left out (never silently).
        public var skippedFiles: Int
        public var pid: Int32
        /// The feature cache folder the run used (absolute), so a resume uses it again; nil in older logs.
        public var cache: String?
        public init(version: Int = TrainingEvent.formatVersion, run: String, strategy: String, backbone: String, dataset: String,
                    train: Int, validation: Int, classes: [String], groups: [String] = [], batchNorm: [String: String] = [:],
                    skippedFiles: Int = 0, pid: Int32 = getpid(), cache: String? = nil) {
            self.version = version; self.run = run; self.strategy = strategy; self.backbone = backbone; self.dataset = dataset
            self.train = train; self.validation = validation; self.classes = classes; self.groups = groups
            self.batchNorm = batchNorm; self.skippedFiles = skippedFiles; self.pid = pid; self.cache = cache
        }
        enum CodingKeys: String, CodingKey {
            case version, run, strategy, backbone, dataset, train, validation, classes, groups, pid, cache
            case batchNorm = "batchnorm", skippedFiles = "skipped_files"
        }
    }

    public struct Progress: Codable, Sendable, Equatable {
        /// `features` (pooled features of the whole backbone) or `prefix` (a frozen prefix's activations) in a
        /// run's log; `eval` for `RunRecords.evaluate`'s pass (never logged).
        public var phase: String
        public var done, total: Int
        public var imagesPerSecond, etaSeconds: Double
        public init(phase: String, done: Int, total: Int, imagesPerSecond: Double, etaSeconds: Double) {
            self.phase = phase; self.done = done; self.total = total; self.imagesPerSecond = imagesPerSecond; self.etaSeconds = etaSeconds
        }
        enum CodingKeys: String, CodingKey { case phase, done, total, imagesPerSecond = "img_per_s", etaSeconds = "eta_s" }
    }

    public struct FeaturesReady: Codable, Sendable, Equatable {
        public var cacheHit: Bool
        public var seconds: Double
        public init(cacheHit: Bool, seconds: Double) { self.cacheHit = cacheHit; self.seconds = seconds }
        enum CodingKeys: String, CodingKey { case cacheHit = "cache_hit", seconds }
    }

    /// A point in the run (see the type's doc for the three fields' meanings).
    public struct Position: Codable, Sendable, Equatable {
        public var epoch, step, epochStep: Int
        public init(epoch: Int, step: Int, epochStep: Int) { self.epoch = epoch; self.step = step; self.epochStep = epochStep }
        enum CodingKeys: String, CodingKey { case epoch, step, epochStep = "epoch_step" }
    }

    public struct Step: Codable, Sendable, Equatable {
        public var epoch, step, epochStep, stepsPerEpoch: Int
        public var loss: Double
        public var imagesPerSecond, etaSeconds: Double
        /// Effective learning rate of every parameter group in this step.
        public var learningRates: [String: Double]
        public init(epoch: Int, step: Int, epochStep: Int, stepsPerEpoch: Int, loss: Double, imagesPerSecond: Double,
                    etaSeconds: Double, learningRates: [String: Double]) {
            self.epoch = epoch; self.step = step; self.epochStep = epochStep; self.stepsPerEpoch = stepsPerEpoch; self.loss = loss
            self.imagesPerSecond = imagesPerSecond; self.etaSeconds = etaSeconds; self.learningRates = learningRates
        }
        enum CodingKeys: String, CodingKey {
            case epoch, step, loss
            case epochStep = "epoch_step", stepsPerEpoch = "steps", imagesPerSecond = "img_per_s", etaSeconds = "eta_s", learningRates = "lr"
        }
    }

    /// One class's validation numbers in an epoch.
    public struct ClassScore: Codable, Sendable, Equatable {
        public var name: String
        public var precision, recall, f1: Double
        public var support: Int
        public init(name: String, precision: Double, recall: Double, f1: Double, support: Int) {
            self.name = name; self.precision = precision; self.recall = recall; self.f1 = f1; self.support = support
        }
        enum CodingKeys: String, CodingKey { case name = "class", precision, recall, f1, support }
    }

    /// A subgroup's validation accuracy and size.
    public struct GroupScore: Codable, Sendable, Equatable {
        public var accuracy: Double
        public var n: Int
        public init(accuracy: Double, n: Int) { self.accuracy = accuracy; self.n = n }
    }

    public struct Epoch: Codable, Sendable, Equatable {
        /// Largest class count whose confusion matrix goes into every epoch event (k² numbers); per-class
        /// scores are always there (k entries). Above it, the best epoch's matrix is in confusion.json.
        public static let confusionClassLimit = 25

        public var epoch, epochs, step: Int
        /// Mean loss and accuracy over the epoch's training batches (augmented, dropout on).
        public var trainLoss, trainAccuracy: Double
        public var valLoss, valAccuracy: Double
        public var valBinaryAccuracy: Double?
        public var perClass: [ClassScore]
        /// Rows: truth, columns: prediction; nil above `confusionClassLimit` classes.
        public var confusion: [[Int]]?
        public var groups: [String: GroupScore]
        public var learningRates: [String: Double]
        public var trainableGroups: [String]
        /// Wall seconds of the whole run so far, and of this epoch (training and validation).
        public var elapsedSeconds, epochSeconds: Double
        /// Training images per second over this epoch.
        public var imagesPerSecond: Double
        /// The highest-loss validation images of this epoch.
        public var worst: [ValidationSample]

        public init(epoch: Int, epochs: Int, step: Int, trainLoss: Double, trainAccuracy: Double, valLoss: Double, valAccuracy: Double,
                    valBinaryAccuracy: Double? = nil, perClass: [ClassScore] = [], confusion: [[Int]]? = nil,
                    groups: [String: GroupScore] = [:], learningRates: [String: Double] = [:], trainableGroups: [String] = [],
                    elapsedSeconds: Double = 0, epochSeconds: Double = 0, imagesPerSecond: Double = 0, worst: [ValidationSample] = []) {
            self.epoch = epoch; self.epochs = epochs; self.step = step; self.trainLoss = trainLoss; self.trainAccuracy = trainAccuracy
            self.valLoss = valLoss; self.valAccuracy = valAccuracy; self.valBinaryAccuracy = valBinaryAccuracy; self.perClass = perClass
            self.confusion = confusion; self.groups = groups; self.learningRates = learningRates; self.trainableGroups = trainableGroups
            self.elapsedSeconds = elapsedSeconds; self.epochSeconds = epochSeconds; self.imagesPerSecond = imagesPerSecond; self.worst = worst
        }

        /// The epoch's numbers from a validation pass.
        public init(epoch: Int, epochs: Int, step: Int, trainLoss: Double, trainAccuracy: Double, metrics m: ClassificationMetrics,
                    learningRates: [String: Double], trainableGroups: [String], elapsedSeconds: Double, epochSeconds: Double,
                    imagesPerSecond: Double, worst: [ValidationSample]) {
            self.init(epoch: epoch, epochs: epochs, step: step, trainLoss: trainLoss, trainAccuracy: trainAccuracy, valLoss: m.loss,
                      valAccuracy: m.accuracy, valBinaryAccuracy: m.binaryAccuracy, perClass: m.classScores,
                      confusion: m.classNames.count <= Self.confusionClassLimit ? m.confusion : nil, groups: m.groupScores,
                      learningRates: learningRates, trainableGroups: trainableGroups, elapsedSeconds: elapsedSeconds,
                      epochSeconds: epochSeconds, imagesPerSecond: imagesPerSecond, worst: worst)
        }

        enum CodingKeys: String, CodingKey {
            case epoch, epochs, step, confusion, groups, worst
            case trainLoss = "train_loss", trainAccuracy = "train_acc", valLoss = "val_loss", valAccuracy = "val_acc"
            case valBinaryAccuracy = "val_acc_binary", perClass = "per_class", learningRates = "lr", trainableGroups = "trainable_groups"
            case elapsedSeconds = "elapsed_s", epochSeconds = "epoch_s", imagesPerSecond = "img_per_s"
        }
    }

    public struct Unfroze: Codable, Sendable, Equatable {
        public var epoch: Int
        /// Groups that became trainable, and all trainable groups from now on.
        public var groups, trainableGroups: [String]
        public init(epoch: Int, groups: [String], trainableGroups: [String]) {
            self.epoch = epoch; self.groups = groups; self.trainableGroups = trainableGroups
        }
        enum CodingKeys: String, CodingKey { case epoch, groups, trainableGroups = "trainable_groups" }
    }

    public struct Checkpoint: Codable, Sendable, Equatable {
        /// `best` (lowest validation loss so far) or `last` (everything a resume needs).
        public var name: String
        public var epoch: Int
        public init(name: String, epoch: Int) { self.name = name; self.epoch = epoch }
    }

    public struct EarlyStop: Codable, Sendable, Equatable {
        public var epoch, bestEpoch: Int
        public init(epoch: Int, bestEpoch: Int) { self.epoch = epoch; self.bestEpoch = bestEpoch }
        enum CodingKeys: String, CodingKey { case epoch, bestEpoch = "best_epoch" }
    }

    public struct Failure: Codable, Sendable, Equatable {
        public var reason: String
        /// The epoch in progress when it failed, if training had started.
        public var epoch: Int?
        /// Whether `--resume` can help (a stop-like failure such as a full disk), or would only repeat it.
        public var resumable: Bool
        public init(reason: String, epoch: Int? = nil, resumable: Bool = false) {
            self.reason = reason; self.epoch = epoch; self.resumable = resumable
        }
    }

    public struct Summary: Codable, Sendable, Equatable {
        public var run: String
        public var valAccuracy: Double
        public var valBinaryAccuracy: Double?
        public var bestEpoch, epochs: Int
        public var wallSeconds: Double
        public init(run: String, valAccuracy: Double, valBinaryAccuracy: Double?, bestEpoch: Int, epochs: Int, wallSeconds: Double) {
            self.run = run; self.valAccuracy = valAccuracy; self.valBinaryAccuracy = valBinaryAccuracy; self.bestEpoch = bestEpoch
            self.epochs = epochs; self.wallSeconds = wallSeconds
        }
        enum CodingKeys: String, CodingKey {
            case run, epochs, valAccuracy = "val_acc", valBinaryAccuracy = "val_acc_binary", bestEpoch = "best_epoch", wallSeconds = "wall_s"
        }
    }

    /// The `event` field of the JSON line.
    public var name: String {
        switch self {
        case .started: "started"
        case .progress: "progress"
        case .featuresReady: "features_ready"
        case .resumed: "resumed"
        case .step: "step"
        case .epoch: "epoch"
        case .unfroze: "unfroze"
        case .checkpoint: "checkpoint"
        case .paused: "paused"
        case .continued: "continued"
        case .stopped: "stopped"
        case .earlyStop: "early_stop"
        case .failed: "failed"
        case .summary: "summary"
        }
    }

    /// `stopped`, `failed` and `summary` end a run's session; exactly one of them closes each.
    public var isTerminal: Bool {
        switch self {
        case .stopped, .failed, .summary: true
        default: false
        }
    }

    private enum EventKey: String, CodingKey { case event }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: EventKey.self)
        try c.encode(name, forKey: .event)
        switch self {
        case .started(let p): try p.encode(to: encoder)
        case .progress(let p): try p.encode(to: encoder)
        case .featuresReady(let p): try p.encode(to: encoder)
        case .resumed(let p), .paused(let p), .continued(let p), .stopped(let p): try p.encode(to: encoder)
        case .step(let p): try p.encode(to: encoder)
        case .epoch(let p): try p.encode(to: encoder)
        case .unfroze(let p): try p.encode(to: encoder)
        case .checkpoint(let p): try p.encode(to: encoder)
        case .earlyStop(let p): try p.encode(to: encoder)
        case .failed(let p): try p.encode(to: encoder)
        case .summary(let p): try p.encode(to: encoder)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: EventKey.self)
        let name = try c.decode(String.self, forKey: .event)
        switch name {
        case "started": self = .started(try Start(from: decoder))
        case "progress": self = .progress(try Progress(from: decoder))
        case "features_ready": self = .featuresReady(try FeaturesReady(from: decoder))
        case "resumed": self = .resumed(try Position(from: decoder))
        case "step": self = .step(try Step(from: decoder))
        case "epoch": self = .epoch(try Epoch(from: decoder))
        case "unfroze": self = .unfroze(try Unfroze(from: decoder))
        case "checkpoint": self = .checkpoint(try Checkpoint(from: decoder))
        case "paused": self = .paused(try Position(from: decoder))
        case "continued": self = .continued(try Position(from: decoder))
        case "stopped": self = .stopped(try Position(from: decoder))
        case "early_stop": self = .earlyStop(try EarlyStop(from: decoder))
        case "failed": self = .failed(try Failure(from: decoder))
        case "summary": self = .summary(try Summary(from: decoder))
        default: throw DecodingError.dataCorruptedError(forKey: .event, in: c, debugDescription: "unknown event '\(name)'")
        }
    }

    /// The metrics.jsonl line (and `tlab train --json` line) of this event, without its newline.
    public var jsonLine: String { (try? JSONLines.string(self)) ?? "" }
}

/// One validation image's outcome, for the worst-mistakes view and validation.json.
public struct ValidationSample: Codable, Equatable, Sendable {
    /// Index in the dataset's sample list.
    public var index: Int
    /// The image's path as the dataset names it (absolute when the dataset's root was given absolute).
    public var file: String
    public var truth: Int, prediction: Int
    public var loss: Double
    /// Class probabilities; left out of epoch events to keep them small.
    public var probabilities: [Double]?
    /// The sample's subgroup, if the dataset has subgroups.
    public var group: String?

    public init(index: Int, file: String, truth: Int, prediction: Int, loss: Double, probabilities: [Double]? = nil, group: String? = nil) {
        self.index = index; self.file = file; self.truth = truth; self.prediction = prediction; self.loss = loss
        self.probabilities = probabilities; self.group = group
    }

    /// The same outcome without the probabilities (what an epoch event carries).
    public var brief: ValidationSample { var s = self; s.probabilities = nil; return s }
}

extension ClassificationMetrics {
    /// Per-class scores in class order.
    public var classScores: [TrainingEvent.ClassScore] {
        classNames.indices.map { .init(name: classNames[$0], precision: precision[$0], recall: recall[$0], f1: f1[$0], support: support[$0]) }
    }
    /// Per-subgroup accuracy and size.
    public var groupScores: [String: TrainingEvent.GroupScore] {
        Dictionary(uniqueKeysWithValues: groupSupport.map { ($0.key, .init(accuracy: groupAccuracy[$0.key] ?? 0, n: $0.value)) })
    }
}

/// The one JSON writer and reader of run files: sorted keys, slashes unescaped, every control character
/// escaped, numbers in their shortest round-trip form, and non-finite numbers as the strings "NaN",
/// "Infinity", "-Infinity" (so a NaN loss is recorded, never a crash in the encoder).
public enum JSONLines {
    static let nonFinite = (positive: "Infinity", negative: "-Infinity", nan: "NaN")

    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: nonFinite.positive, negativeInfinity: nonFinite.negative,
                                                                nan: nonFinite.nan)
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: nonFinite.positive, negativeInfinity: nonFinite.negative,
                                                                  nan: nonFinite.nan)
        return d
    }

    /// One value as a single line (no newline at the end).
    public static func encode<T: Encodable>(_ value: T) throws -> Data { try encoder().encode(value) }

    /// One value as a single line of text (what the commands' `--json` output prints).
    public static func string<T: Encodable>(_ value: T) throws -> String { String(decoding: try encode(value), as: UTF8.self) }

    /// A JSON-safe Double: Float values (learning rates) as their shortest decimal, so 3e-4 is written 0.0003,
    /// not 0.0003000000142.
    public static func decimal(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }
}
