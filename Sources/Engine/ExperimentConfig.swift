import Foundation
import Backbones
import ImageData
import Layers

/// How one layer group of the backbone is treated during a run.
public struct GroupPolicy: Codable, Equatable, Sendable {
    /// Frozen groups get no gradient and never move.
    public var trainable: Bool
    /// Learning rate of a trainable group (required when trainable).
    public var learningRate: Double?
    /// BatchNorm inside the group: `train` (weights and statistics), `stats-only` (weights frozen, running
    /// statistics still update — PyTorch's requires_grad=False) or `frozen` (inference mode — Keras's
    /// trainable=False).
    public var batchNorm: BatchNormMode

    public enum BatchNormMode: String, ConfigChoice { case train, statsOnly = "stats-only", frozen }

    public init(trainable: Bool, learningRate: Double?, batchNorm: BatchNormMode) {
        self.trainable = trainable; self.learningRate = learningRate; self.batchNorm = batchNorm
    }

    public static let frozen = GroupPolicy(trainable: false, learningRate: nil, batchNorm: .frozen)
    public static func trained(_ lr: Double, batchNorm: BatchNormMode = .train) -> GroupPolicy {
        GroupPolicy(trainable: true, learningRate: lr, batchNorm: batchNorm)
    }
}

/// The new classification head.
public struct HeadConfig: Codable, Equatable, Sendable {
    public enum Kind: String, ConfigChoice { case linear, mlp }
    public var kind: Kind = .linear
    /// Hidden width of the MLP head.
    public var hidden: Int? = nil
    public var dropout: Float = 0.2
    public var learningRate: Double = 1e-3
    public init() {}
}

public struct DatasetConfig: Codable, Equatable, Sendable {
    /// Which loader reads the dataset; stored as its name (`"kind": "elpv"`).
    public enum Kind: String, ConfigChoice {
        /// The ELPV solar-cell set (labels.csv with defect probabilities and mono / poly subgroups).
        case elpv
        /// root/CLASS/*.png, or root/train/CLASS + root/val/CLASS (which then is the split).
        case folder
        /// A manifest of `path,label[,group]` lines.
        case csv
    }
    public var kind: Kind
    /// Root folder or manifest; for ELPV, where labels.csv lives (default: the setup cache).
    public var path: String?
    public init(kind: Kind, path: String? = nil) { self.kind = kind; self.path = path }

    /// The ELPV set where `make setup` put it.
    public static let elpv = DatasetConfig(kind: .elpv)

    /// What a command-line `--dataset` names: `elpv`, a CSV manifest (`*.csv`) or an image folder.
    public init(argument: String) {
        self = argument == "elpv" ? .elpv : DatasetConfig(kind: argument.lowercased().hasSuffix(".csv") ? .csv : .folder, path: argument)
    }
}

public struct SplitConfig: Codable, Equatable, Sendable {
    public var validationFraction: Double = 0.25
    public var seed: UInt64 = 0
    /// k-fold cross-validation: with `folds` set, validation is fold `fold` (0-based) of a stratified k-fold
    /// split and `validationFraction` is not used. One run per fold; `tlab compare` puts them side by side.
    public var folds: Int?
    public var fold = 0
    public init() {}

    /// The train / validation indices of `labels` this split describes.
    public func indices(labels: [Int]) -> (train: [Int], validation: [Int]) {
        if let k = folds { return Split.kFold(labels: labels, folds: k, seed: seed)[fold] }
        return Split.stratified(labels: labels, validationFraction: validationFraction, seed: seed)
    }
}

public struct AugmentationConfig: Codable, Equatable, Sendable {
    public var randomResizedCrop = false
    /// Area fraction range of the random resized crop (torchvision's default: 0.08…1).
    public var cropScale: [Float] = [0.08, 1]
    public var horizontalFlip = false
    public var verticalFlip = false
    public var rotationDegrees: Float = 0
    public var brightness: Float = 0
    public var contrast: Float = 0
    public init(randomResizedCrop: Bool = false, horizontalFlip: Bool = false, verticalFlip: Bool = false,
                rotationDegrees: Float = 0, brightness: Float = 0, contrast: Float = 0) {
        self.randomResizedCrop = randomResizedCrop; self.horizontalFlip = horizontalFlip; self.verticalFlip = verticalFlip
        self.rotationDegrees = rotationDegrees; self.brightness = brightness; self.contrast = contrast
    }
    public static let none = AugmentationConfig()
    public var isNone: Bool { policy.isIdentity }

    /// What the image loader applies to training images.
    public var policy: Augmentation {
        Augmentation(cropScale: randomResizedCrop ? cropScale[0]...cropScale[1] : nil, horizontalFlip: horizontalFlip,
                     verticalFlip: verticalFlip, rotationDegrees: rotationDegrees, brightness: brightness, contrast: contrast)
    }
}

/// Everything a run needs, as saved in its folder's config.json.
public struct ExperimentConfig: Codable, Equatable, Sendable {
    public static let currentVersion = 1

    public var version = ExperimentConfig.currentVersion
    public var name: String
    public var dataset: DatasetConfig
    public var split = SplitConfig()
    public var backbone: String
    /// Input side; nil means the backbone's own.
    public var resolution: Int?
    /// Policy per backbone group: "early", "intermediate", "final".
    public var groups: [String: GroupPolicy]
    public var head = HeadConfig()
    public var optimizer = Optimizer.adamw
    public var momentum: Double = 0.9
    public var weightDecay: Double = 1e-4
    public var schedule = Schedule.constant
    public var epochs = 30
    public var batchSize = 32
    /// Stop after this many epochs without a better validation loss; nil never stops early.
    public var patience: Int?
    public var seed: UInt64 = 0
    public var augmentation = AugmentationConfig.none
    /// `gradual` preset: unfreeze one more group (from the last) every this many epochs.
    public var unfreezeEvery: Int?

    public static let groupOrder = ["early", "intermediate", "final"]

    /// `adamw` (β 0.9 / 0.999, ε 1e-8, decoupled weight decay) or `sgd` (with `momentum`).
    public enum Optimizer: String, ConfigChoice { case adamw, sgd }

    /// A config error names the field and the reason.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let field: String, reason: String
        public var description: String { "config field `\(field)`: \(reason)" }
    }

    /// Refuses anything a run could not honour, before it starts.
    public func validate(knownBackbones: [String]) throws {
        func fail(_ field: String, _ reason: String) throws -> Never { throw Invalid(field: field, reason: reason) }
        if version != Self.currentVersion { try fail("version", "is \(version); this tlab reads version \(Self.currentVersion)") }
        if name.isEmpty || name.contains("/") || name.contains(where: { $0.isNewline || ($0.asciiValue ?? 32) < 32 }) {
            try fail("name", "must be a non-empty name without '/', line breaks or control characters")
        }
        if dataset.kind != .elpv && (dataset.path ?? "").isEmpty { try fail("dataset.path", "a \(dataset.kind.rawValue) dataset needs a path") }
        if !(split.validationFraction > 0 && split.validationFraction < 1) { try fail("split.validationFraction", "must be between 0 and 1 (exclusive)") }
        if let k = split.folds, k < 2 { try fail("split.folds", "must be at least 2 when given") }
        if let k = split.folds, !(0..<k).contains(split.fold) { try fail("split.fold", "must be in 0..<\(k)") }
        if split.folds == nil && split.fold != 0 { try fail("split.fold", "needs split.folds") }
        if !knownBackbones.contains(backbone) { try fail("backbone", "'\(backbone)' is not one of \(knownBackbones.joined(separator: ", "))") }
        if let r = resolution, !(32...1024).contains(r) { try fail("resolution", "\(r) is outside 32…1024") }
        for g in groups.keys where !Self.groupOrder.contains(g) { try fail("groups.\(g)", "unknown group; groups are \(Self.groupOrder.joined(separator: ", "))") }
        for g in Self.groupOrder {
            guard let p = groups[g] else { try fail("groups.\(g)", "missing: every group needs a policy") }
            if p.trainable {
                guard let lr = p.learningRate else { try fail("groups.\(g).learningRate", "a trainable group needs a learning rate") }
                if !(lr > 0 && lr.isFinite) { try fail("groups.\(g).learningRate", "must be a positive number") }
            }
        }
        if !(head.learningRate > 0 && head.learningRate.isFinite) { try fail("head.learningRate", "must be a positive number") }
        if !(0..<1).contains(head.dropout) { try fail("head.dropout", "must be in [0, 1)") }
        if head.kind == .mlp && (head.hidden ?? 0) <= 0 { try fail("head.hidden", "an mlp head needs a positive hidden width") }
        if !(weightDecay >= 0 && weightDecay.isFinite) { try fail("weightDecay", "must not be negative (got \(weightDecay))") }
        if !(0..<1).contains(momentum) { try fail("momentum", "must be in [0, 1) (got \(momentum)); 1 or more makes SGD diverge") }
        switch schedule {
        case .constant: break
        case let .step(every, gamma):
            if every < 1 { try fail("schedule.step.every", "must be at least 1 (got \(every))") }
            if !(gamma > 0 && gamma.isFinite) { try fail("schedule.step.gamma", "must be a positive number (got \(gamma)); a negative one makes the learning rate negative") }
        case let .cosine(warmup, minFactor):
            if warmup < 0 { try fail("schedule.cosine.warmupSteps", "must not be negative (got \(warmup))") }
            if !(0...1).contains(minFactor) { try fail("schedule.cosine.minFactor", "must be in [0, 1] (got \(minFactor)); a negative one makes the learning rate negative") }
        case let .oneCycle(pctStart, divFactor, finalDivFactor):
            if !(pctStart > 0 && pctStart < 1) { try fail("schedule.oneCycle.pctStart", "must be in (0, 1) (got \(pctStart))") }
            if !(divFactor > 0 && divFactor.isFinite) { try fail("schedule.oneCycle.divFactor", "must be a positive number (got \(divFactor))") }
            if !(finalDivFactor > 0 && finalDivFactor.isFinite) { try fail("schedule.oneCycle.finalDivFactor", "must be a positive number (got \(finalDivFactor))") }
        }
        if epochs < 1 { try fail("epochs", "must be at least 1") }
        if batchSize < 1 { try fail("batchSize", "must be at least 1 (got \(batchSize))") }
        try checkMemory(fail)
        if let p = patience, p < 1 { try fail("patience", "must be at least 1 when given") }
        if let u = unfreezeEvery, u < 1 { try fail("unfreezeEvery", "must be at least 1 when given") }
        let a = augmentation
        if a.cropScale.count != 2 || !(a.cropScale[0] > 0 && a.cropScale[0] <= a.cropScale[1] && a.cropScale[1] <= 1) {
            try fail("augmentation.cropScale", "must be [min, max] with 0 < min ≤ max ≤ 1")
        }
        if !(0...180).contains(a.rotationDegrees) { try fail("augmentation.rotationDegrees", "must be between 0 and 180") }
        if !(0...1).contains(a.brightness) { try fail("augmentation.brightness", "must be between 0 and 1") }
        if !(0...1).contains(a.contrast) { try fail("augmentation.contrast", "must be between 0 and 1") }
        if unfreezeEvery != nil && groups.values.contains(where: \.trainable) {
            try fail("unfreezeEvery", "gradual unfreezing starts from frozen groups; set every group to frozen")
        }
    }

    /// The memory a batch and an MLP head need, against the machine's: a batch of `batchSize` images at the
    /// run's resolution (input and the backbone's activations, about 16 copies of the input in float) and an
    /// MLP head's weights with their gradients and AdamW moments must each fit in physical memory.
    public static var physicalMemory: UInt64 = ProcessInfo.processInfo.physicalMemory

    func checkMemory(_ fail: (String, String) throws -> Never) throws {
        let memory = Double(Self.physicalMemory)
        func gib(_ b: Double) -> String { String(format: "%.1f GiB", b / Double(1 << 30)) }
        let side = Double(resolution ?? Backbones.spec(backbone)?.preprocessing.resolution ?? 224)
        let perImage = 3 * side * side * 4 * 16
        if Double(batchSize) * perImage > memory {
            try fail("batchSize", "\(batchSize) images of \(Int(side))×\(Int(side)) need about \(gib(Double(batchSize) * perImage)); "
                     + "this machine has \(gib(memory)) — use at most \(Int(memory / perImage))")
        }
        if head.kind == .mlp, let hidden = head.hidden, hidden > 0 {
            let features = Double(Backbones.spec(backbone)?.featureDimension ?? 4096)
            let bytes = Double(hidden) * (features + 1) * 4 * 4  // weights, gradients, two AdamW moments
            if bytes > memory / 2 {
                try fail("head.hidden", "an MLP of width \(hidden) on \(Int(features)) features needs about \(gib(bytes)) with its optimiser state; "
                         + "this machine has \(gib(memory)) — use at most \(Int(memory / 2 / ((features + 1) * 16)))")
            }
        }
    }

    // MARK: presets

    /// The four starting points `tlab config`, `tlab train --preset` and the workbench offer.
    public enum Preset: String, ConfigChoice {
        case featureExtraction = "feature-extraction", fineTuneTop = "fine-tune-top", fineTuneAll = "fine-tune-all", gradual
    }

    public static var presetNames: [String] { Preset.names }

    /// The four presets, with head learning rate `headLR`; the run is named after the preset:
    /// - feature-extraction: every group frozen (BN in inference mode), only the new head trains;
    /// - fine-tune-top: early frozen, intermediate at headLR/100, final at headLR/10;
    /// - fine-tune-all: every group trainable at headLR/10;
    /// - gradual: starts as feature extraction and unfreezes one more group (from the last) every 3 epochs.
    public static func preset(_ preset: Preset, backbone: String, dataset: DatasetConfig, headLR: Double = 1e-3) -> ExperimentConfig {
        var c = ExperimentConfig(name: preset.rawValue, dataset: dataset, backbone: backbone,
                                 groups: Dictionary(uniqueKeysWithValues: groupOrder.map { ($0, GroupPolicy.frozen) }))
        c.head.learningRate = headLR
        switch preset {
        case .featureExtraction:
            c.epochs = 100
        case .fineTuneTop:
            c.groups["intermediate"] = .trained(headLR / 100)
            c.groups["final"] = .trained(headLR / 10)
            c.epochs = 8
            c.augmentation = AugmentationConfig(horizontalFlip: true, verticalFlip: true)
        case .fineTuneAll:
            for g in groupOrder { c.groups[g] = .trained(headLR / 10) }
            c.epochs = 4
            c.augmentation = AugmentationConfig(horizontalFlip: true, verticalFlip: true)
        case .gradual:
            c.unfreezeEvery = 3
            c.epochs = 12
            c.augmentation = AugmentationConfig(horizontalFlip: true, verticalFlip: true)
        }
        return c
    }

    /// Sets the head's learning rate and scales every group's by the same factor, so the ratios the config
    /// chose (e.g. intermediate = head / 100) stay: what `--head-lr` means with a preset and with a config.
    public mutating func rescaleLearningRates(headLearningRate: Double) {
        let factor = headLearningRate / head.learningRate
        for (name, policy) in groups { groups[name]?.learningRate = policy.learningRate.map { $0 * factor } }
        head.learningRate = headLearningRate
    }

    /// The learning rate a gradual run gives a group once it is unfrozen: the fine-tune-top ratios.
    public func gradualLearningRate(for group: String) -> Double {
        switch group {
        case "final": return head.learningRate / 10
        case "intermediate": return head.learningRate / 100
        default: return head.learningRate / 1000
        }
    }

    /// Group policies in force during `epoch` (0-based): gradual runs unfreeze final, then intermediate,
    /// then early, one every `unfreezeEvery` epochs.
    public func policies(atEpoch epoch: Int) -> [String: GroupPolicy] {
        guard let every = unfreezeEvery else { return groups }
        var out = groups
        let unfrozen = min(epoch / every, Self.groupOrder.count)
        for g in Self.groupOrder.reversed().prefix(unfrozen) { out[g] = .trained(gradualLearningRate(for: g)) }
        return out
    }

    /// The leading groups that are a fixed function for the whole run: frozen, with inference-mode BatchNorm,
    /// in every epoch. Their output can be computed once and cached; all three make a feature-extraction run.
    public var fixedPrefix: [String] {
        let epochs = (0..<epochs).map { policies(atEpoch: $0) }
        return Array(Self.groupOrder.prefix { g in epochs.allSatisfy { !$0[g]!.trainable && $0[g]!.batchNorm == .frozen } })
    }

    // MARK: JSON

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    /// Decodes and reports the first unknown, missing or mistyped field by its path. Unknown keys come first
    /// (the first in the file is named, with the nearest known key, and the others listed): a misspelt key is
    /// usually why a required one is missing.
    public static func decode(_ data: Data) throws -> ExperimentConfig {
        let decoder = JSONDecoder(), unknown = UnknownKeys.Collector()
        decoder.userInfo[UnknownKeys.Collector.key] = unknown
        func refuseUnknown() throws {
            if !unknown.found.isEmpty { throw UnknownKeys.error(unknown.found, in: String(decoding: data, as: UTF8.self)) }
        }
        do {
            let c = try decoder.decode(ExperimentConfig.self, from: data)
            try refuseUnknown()
            return c
        } catch let e as DecodingError {
            try refuseUnknown()
            throw describe(e)
        }
    }

    /// A decoding error as the field it is about and the reason.
    static func describe(_ error: DecodingError) -> Error {
        switch error {
        case let .keyNotFound(key, ctx):
            return Invalid(field: (ctx.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."), reason: "missing")
        case let .typeMismatch(type, ctx):
            return Invalid(field: ctx.codingPath.map(\.stringValue).joined(separator: "."), reason: "expected \(type)")
        case let .valueNotFound(type, ctx):
            return Invalid(field: ctx.codingPath.map(\.stringValue).joined(separator: "."), reason: "expected \(type), got null")
        case let .dataCorrupted(ctx):
            let field = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            return Invalid(field: field.isEmpty ? "(file)" : field, reason: ctx.debugDescription)
        @unknown default:
            return error
        }
    }
}
