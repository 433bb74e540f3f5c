import Foundation

/// Runs that repeat one config with different training seeds, grouped so a comparison can say "76.1 ± 0.8 %
/// over 3 seeds" instead of trusting one lucky run (what TensorBoard users ask for in #376). Two runs belong
/// to one group when every setting but `seed` is the same (`ConfigSettings.all`), the split included.
public struct SeedGroup: Encodable, Sendable, Equatable {
    /// Mean, sample standard deviation (n − 1; 0 for one value), range and count of one number over a group.
    public struct Spread: Encodable, Sendable, Equatable {
        public var mean, std, min, max: Double
        public var n: Int

        /// nil for no values.
        public init?(_ values: [Double]) {
            guard let lo = values.min(), let hi = values.max() else { return nil }
            let m = values.reduce(0, +) / Double(values.count)
            let variance = values.count > 1 ? values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1) : 0
            (mean, std, min, max, n) = (m, variance.squareRoot(), lo, hi, values.count)
        }
    }

    /// One run as grouping needs it: its id, config and the epoch its results are reported at.
    public struct Member: Sendable {
        public var id: String, config: ExperimentConfig, best: TrainingEvent.Epoch?
        public init(id: String, config: ExperimentConfig, best: TrainingEvent.Epoch?) { self.id = id; self.config = config; self.best = best }
    }

    /// The member runs, in the order they were given, and their seeds.
    public var runs: [String]
    public var seeds: [UInt64]
    /// The runs' strategy and backbone, for a label ("fine-tune-top resnet18 × 3 seeds").
    public var strategy: String, backbone: String
    /// Over the runs that have a validated epoch (`n` says how many did).
    public var valAccuracy, valBinaryAccuracy, valLoss: Spread?
    /// Per class in `classes` order; nil where no run has the class yet.
    public var perClassF1: [ClassSpread]
    public var groups: [String: Spread]

    public struct ClassSpread: Encodable, Sendable, Equatable {
        public var name: String
        public var f1: Spread?
        enum CodingKeys: String, CodingKey { case name = "class", f1 }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name); try c.encode(f1, forKey: .f1)
        }
    }

    enum CodingKeys: String, CodingKey {
        case runs, seeds, strategy, backbone, groups
        case valAccuracy = "val_acc", valBinaryAccuracy = "val_acc_binary", valLoss = "val_loss", perClassF1 = "per_class"
    }

    public var label: String { "\(strategy) \(backbone) \u{00D7} \(runs.count) seed\(runs.count == 1 ? "" : "s")" }

    /// The key two runs share when they differ at most in their seed.
    public static func key(_ c: ExperimentConfig) -> String {
        ConfigSettings.all.filter { $0.name != "seed" }.map { "\($0.name)=\(ConfigSettings.value($0, in: c))" }.joined(separator: "\n")
    }

    /// Groups in the order their first run appears; `classes` is the class order of the per-class spreads.
    public static func group(_ members: [Member], classes: [String]) -> [SeedGroup] {
        var order: [String] = [], byKey: [String: [Member]] = [:]
        for m in members {
            let k = key(m.config)
            if byKey[k] == nil { order.append(k) }
            byKey[k, default: []].append(m)
        }
        return order.map { SeedGroup(byKey[$0]!, classes: classes) }
    }

    init(_ members: [Member], classes: [String]) {
        runs = members.map(\.id)
        seeds = members.map(\.config.seed)
        strategy = Experiment.strategy(of: members[0].config).rawValue
        backbone = members[0].config.backbone
        let best = members.compactMap(\.best)
        valAccuracy = Spread(best.map(\.valAccuracy))
        valBinaryAccuracy = Spread(best.compactMap(\.valBinaryAccuracy))
        valLoss = Spread(best.map(\.valLoss))
        perClassF1 = classes.map { c in ClassSpread(name: c, f1: Spread(best.compactMap { e in e.perClass.first { $0.name == c }?.f1 })) }
        var groups: [String: Spread] = [:]
        for name in Set(best.flatMap { $0.groups.keys }) {
            groups[name] = Spread(best.compactMap { $0.groups[name]?.accuracy })
        }
        self.groups = groups
    }

    /// "76.1 ± 0.8" (percent, one decimal) or "0.712 ± 0.031"; the spread is left out for a single run.
    public static func text(_ s: Spread?, percent: Bool, digits: Int? = nil) -> String {
        guard let s else { return "\u{2014}" }
        let d = digits ?? (percent ? 1 : 3)
        let scale = percent ? 100.0 : 1.0
        let mean = String(format: "%.\(d)f", scale * s.mean)
        return s.n > 1 ? mean + " \u{00B1} " + String(format: "%.\(d)f", scale * s.std) : mean
    }
}
