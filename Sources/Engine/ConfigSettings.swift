import Foundation

/// A config as flat, named settings ("intermediate lr", "augmentation", …), so comparisons can show only
/// the ones that differ between runs (what MLflow and DVC users ask for).
public enum ConfigSettings {
    public struct Setting: Hashable, Sendable {
        public let name: String
        let read: @Sendable (ExperimentConfig) -> String
        public static func == (a: Setting, b: Setting) -> Bool { a.name == b.name }
        public func hash(into h: inout Hasher) { h.combine(name) }
    }

    static func rate(_ p: GroupPolicy?) -> String {
        guard let p, p.trainable, let lr = p.learningRate else { return "frozen" }
        return "\(lr)"
    }

    /// Every setting, in the order a person reads a config.
    public static let all: [Setting] = [
        Setting(name: "dataset") { $0.dataset.path.map { "\($0)" } ?? $0.dataset.kind.rawValue },
        Setting(name: "split") { c in c.split.folds.map { "fold \(c.split.fold + 1)/\($0), seed \(c.split.seed)" } ?? "\(Int((c.split.validationFraction * 100).rounded())) % val, seed \(c.split.seed)" },
        Setting(name: "backbone") { $0.backbone },
        Setting(name: "resolution") { $0.resolution.map { "\($0)" } ?? "backbone's" },
        Setting(name: "early lr") { rate($0.groups["early"]) },
        Setting(name: "intermediate lr") { rate($0.groups["intermediate"]) },
        Setting(name: "final lr") { rate($0.groups["final"]) },
        Setting(name: "head lr") { "\($0.head.learningRate)" },
        Setting(name: "batchnorm") { c in ExperimentConfig.groupOrder.map { c.groups[$0]?.batchNorm.rawValue ?? "?" }.joined(separator: "/") },
        Setting(name: "unfreeze every") { $0.unfreezeEvery.map { "\($0) epochs" } ?? "—" },
        Setting(name: "head") { c in c.head.kind == .mlp ? "mlp \(c.head.hidden ?? 256), dropout \(c.head.dropout)" : "linear, dropout \(c.head.dropout)" },
        Setting(name: "optimizer") { c in c.optimizer == .sgd ? "sgd momentum \(c.momentum)" : c.optimizer.rawValue },
        Setting(name: "weight decay") { "\($0.weightDecay)" },
        Setting(name: "schedule") { "\($0.schedule)" },
        Setting(name: "epochs") { "\($0.epochs)" },
        Setting(name: "batch") { "\($0.batchSize)" },
        Setting(name: "augmentation") { $0.augmentation.summary },
        Setting(name: "patience") { $0.patience.map { "\($0)" } ?? "—" },
        Setting(name: "seed") { "\($0.seed)" },
    ]

    public static func value(_ s: Setting, in c: ExperimentConfig) -> String { s.read(c) }

    /// The settings whose values are not the same in all `configs`.
    public static func differing(_ configs: [ExperimentConfig]) -> [Setting] {
        all.filter { s in Set(configs.map(s.read)).count > 1 }
    }
}

/// What decides whether two runs' validation numbers are comparable: the data and the split.
public struct SplitIdentity: Hashable, Sendable {
    public let dataset: String, fraction: Double, seed: UInt64, folds: Int?, fold: Int
    public init(_ c: ExperimentConfig) {
        dataset = c.dataset.kind.rawValue + ":" + (c.dataset.path ?? ""); fraction = c.split.validationFraction; seed = c.split.seed
        folds = c.split.folds; fold = c.split.fold
    }
}

extension AugmentationConfig {
    /// "none", or the augmentations in use ("flips h+v, crop 0.08–1, rotate 10°").
    public var summary: String {
        var parts: [String] = []
        if randomResizedCrop { parts.append("crop \(cropScale[0])–\(cropScale[1])") }
        if horizontalFlip || verticalFlip { parts.append("flips " + [horizontalFlip ? "h" : nil, verticalFlip ? "v" : nil].compactMap { $0 }.joined(separator: "+")) }
        if rotationDegrees > 0 { parts.append("rotate \(rotationDegrees)°") }
        if brightness > 0 { parts.append("brightness \(brightness)") }
        if contrast > 0 { parts.append("contrast \(contrast)") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}
