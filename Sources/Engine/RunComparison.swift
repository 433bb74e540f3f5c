import Foundation

/// Two or more runs side by side, as `tlab compare` prints them (and `--json` encodes them): the settings
/// that differ, the dataset, the cost, the results and per-class F1 / per-group accuracy, each with its
/// difference to the first run (the baseline). Works on any state a `RunOverview` reads: finished runs
/// from summary.json, the others from their log.
public struct RunComparison: Encodable, Sendable {
    /// One class's F1 in one run; nil where the run has no score for the class (yet).
    public struct ClassF1: Encodable, Sendable, Equatable {
        public var name: String
        public var f1, f1Delta: Double?
        public init(name: String, f1: Double?, f1Delta: Double?) { self.name = name; self.f1 = f1; self.f1Delta = f1Delta }
        enum CodingKeys: String, CodingKey { case name = "class", f1, f1Delta = "f1_delta" }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name); try c.encode(f1, forKey: .f1); try c.encode(f1Delta, forKey: .f1Delta)
        }
    }

    /// One subgroup's accuracy and size in one run.
    public struct GroupAccuracy: Encodable, Sendable, Equatable {
        public var accuracy, accuracyDelta: Double?
        public var n: Int?
        public init(accuracy: Double?, accuracyDelta: Double?, n: Int?) { self.accuracy = accuracy; self.accuracyDelta = accuracyDelta; self.n = n }
        enum CodingKeys: String, CodingKey { case accuracy, accuracyDelta = "accuracy_delta", n }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(accuracy, forKey: .accuracy); try c.encode(accuracyDelta, forKey: .accuracyDelta); try c.encode(n, forKey: .n)
        }
    }

    /// What a run cost. Parameter counts come from summary.json (nil until the run finished); wall time, time
    /// per epoch and images per second from the log while it runs.
    public struct Cost: Encodable, Sendable, Equatable {
        public var trainableParameters, totalParameters: Int?
        /// Through the backbone: the feature pass for feature extraction (nil when its features came from the
        /// cache), the training epochs otherwise (`RunHistory.throughput`).
        public var wallSeconds, epochSeconds, imagesPerSecond: Double?
        /// Whether the run's features came from the cache (nil when it used no feature cache).
        public var featuresCached: Bool?
        /// What `imagesPerSecond` measured, for text ("features cached", "812.4 (features)", "23.5").
        public var throughput: RunHistory.Throughput?
        enum CodingKeys: String, CodingKey {
            case trainableParameters = "trainable_params", totalParameters = "total_params", wallSeconds = "wall_s"
            case epochSeconds = "epoch_s", imagesPerSecond = "img_per_s", featuresCached = "features_cached"
        }
    }

    /// At the best epoch (lowest validation loss), with differences to the baseline.
    public struct Results: Encodable, Sendable, Equatable {
        public var valAccuracy, valAccuracyDelta, valBinaryAccuracy, valBinaryAccuracyDelta: Double?
        public var valLoss, valLossDelta, macroF1, macroF1Delta: Double?
        public var bestEpoch: Int?
        public var epochsDone, epochs: Int
        enum CodingKeys: String, CodingKey {
            case valAccuracy = "val_acc", valAccuracyDelta = "val_acc_delta", valBinaryAccuracy = "val_acc_binary"
            case valBinaryAccuracyDelta = "val_acc_binary_delta", valLoss = "val_loss", valLossDelta = "val_loss_delta"
            case macroF1 = "macro_f1", macroF1Delta = "macro_f1_delta", bestEpoch = "best_epoch", epochsDone = "epochs_done", epochs
        }
    }

    public struct Run: Encodable, Sendable {
        public var run, state, strategy, backbone, dataset: String
        public var baseline: Bool
        /// Every setting (`ConfigSettings.all`) by name.
        public var settings: [String: String]
        public var cost: Cost
        public var results: Results
        /// In `RunComparison.classes` order.
        public var perClass: [ClassF1]
        public var groups: [String: GroupAccuracy]
        enum CodingKeys: String, CodingKey {
            case run, state, strategy, backbone, dataset, baseline, settings, cost, results, groups
            case perClass = "per_class"
        }
    }

    public var runs: [Run]
    /// Names of the settings whose values differ, in `ConfigSettings.all` order.
    public var differing: [String]
    /// Every run's classes in the dataset's own order (the baseline's first, then any class only a later run has).
    public var classes: [String]
    public var groups: [String]
    /// false when the runs did not use the same data and split (`SplitIdentity`).
    public var comparable: Bool
    /// The runs grouped by config with the seed left out: mean ± spread where a config was repeated over seeds.
    public var seedGroups: [SeedGroup]
    /// Whether any config was run with more than one seed (then grouping says more than the single runs).
    public var hasRepeatedSeeds: Bool { seedGroups.contains { $0.runs.count > 1 } }

    enum CodingKeys: String, CodingKey { case runs, differing, classes, groups, comparable, seedGroups = "seed_groups" }

    /// The first run is the baseline.
    public init(_ overviews: [RunOverview]) {
        let base = overviews.first
        differing = ConfigSettings.differing(overviews.map(\.config)).map(\.name)
        classes = Self.classOrder(overviews.map(\.classes))
        groups = Set(overviews.flatMap { $0.groups.keys }).sorted()
        comparable = Set(overviews.map { SplitIdentity($0.config) }).count <= 1
        let (classes, groups) = (classes, groups)
        seedGroups = SeedGroup.group(overviews.map { SeedGroup.Member(id: $0.id, config: $0.config, best: $0.bestEpoch) }, classes: classes)
        runs = overviews.enumerated().map { i, r in
            let baseResults = base.map(Self.results)
            let mine = Self.results(r)
            let results = Results(valAccuracy: mine.acc, valAccuracyDelta: Self.delta(mine.acc, baseResults?.acc),
                                  valBinaryAccuracy: mine.binary, valBinaryAccuracyDelta: Self.delta(mine.binary, baseResults?.binary),
                                  valLoss: mine.loss, valLossDelta: Self.delta(mine.loss, baseResults?.loss),
                                  macroF1: mine.macroF1, macroF1Delta: Self.delta(mine.macroF1, baseResults?.macroF1),
                                  bestEpoch: r.summary?.bestEpoch ?? r.bestEpoch?.epoch, epochsDone: r.epochsDone, epochs: r.config.epochs)
            let perClass = classes.map { c in
                let f1 = r.perClass.first { $0.name == c }?.f1
                return ClassF1(name: c, f1: f1, f1Delta: Self.delta(f1, base?.perClass.first { $0.name == c }?.f1))
            }
            var groupScores: [String: GroupAccuracy] = [:]
            for g in groups {
                let a = r.groups[g]
                groupScores[g] = GroupAccuracy(accuracy: a?.accuracy, accuracyDelta: Self.delta(a?.accuracy, base?.groups[g]?.accuracy), n: a?.n)
            }
            var settings: [String: String] = [:]
            for s in ConfigSettings.all { settings[s.name] = ConfigSettings.value(s, in: r.config) }
            return Run(run: r.id, state: r.state.label, strategy: r.strategy, backbone: r.config.backbone, dataset: r.dataset, baseline: i == 0,
                       settings: settings, cost: Self.cost(r), results: results, perClass: perClass, groups: groupScores)
        }
    }

    /// Of (class, F1 difference to the baseline) pairs, the class that gained most and the one that lost most:
    /// the sentence a comparison is for (`tlab compare` and the workbench's compare screen both say it).
    public static func movers(_ deltas: [(name: String, delta: Double)]) -> (up: (name: String, delta: Double), down: (name: String, delta: Double))? {
        guard let up = deltas.max(by: { $0.delta < $1.delta }), let down = deltas.min(by: { $0.delta < $1.delta }) else { return nil }
        return (up, down)
    }

    /// "F1 improved most on p=1/3 (+0.06), hurt most on p=2/3 (-0.19)": the movers as a clause that never
    /// calls a fall an improvement. When no class rose it says so ("improved on no class"), likewise for falls.
    public static func moversClause(_ deltas: [(name: String, delta: Double)], digits: Int) -> String? {
        guard let (up, down) = movers(deltas) else { return nil }
        let f = "%+.\(digits)f"
        let rose = up.delta > 0 ? "improved most on \(up.name) (\(String(format: f, up.delta)))" : "improved on no class"
        let fell = down.delta < 0 ? "hurt most on \(down.name) (\(String(format: f, down.delta)))" : "hurt no class"
        return "F1 \(rose), \(fell)"
    }

    /// `value - baseline`, when both exist.
    public static func delta(_ value: Double?, _ baseline: Double?) -> Double? {
        guard let value, let baseline else { return nil }
        return value - baseline
    }

    /// The classes of several runs in the dataset's own order: the first list as it is, then each class a
    /// later list adds, where it appears. Never sorted as text (ELPV: p=0, p=1/3, p=2/3, p=1).
    public static func classOrder(_ lists: [[String]]) -> [String] {
        var out: [String] = [], seen: Set<String> = []
        for list in lists { for c in list where seen.insert(c).inserted { out.append(c) } }
        return out
    }

    static func results(_ r: RunOverview) -> (acc: Double?, binary: Double?, loss: Double?, macroF1: Double?) {
        let perClass = r.perClass
        let macro = r.summary?.macroF1 ?? (perClass.isEmpty ? nil : perClass.reduce(0) { $0 + $1.f1 } / Double(perClass.count))
        return (r.bestAccuracy, r.bestBinaryAccuracy, r.summary?.valLoss ?? r.bestEpoch?.valLoss, macro)
    }

    static func cost(_ r: RunOverview) -> Cost {
        let epochs = r.history.epochs
        func mean(_ xs: [Double]) -> Double? { xs.isEmpty ? nil : xs.reduce(0, +) / Double(xs.count) }
        return Cost(trainableParameters: r.summary?.trainableParameters, totalParameters: r.summary?.totalParameters,
                    wallSeconds: r.wallSeconds, epochSeconds: r.summary?.epochSeconds ?? mean(epochs.map(\.epochSeconds)),
                    imagesPerSecond: r.history.throughput?.imagesPerSecond, featuresCached: r.history.featuresReady?.cacheHit,
                    throughput: r.history.throughput)
    }
}
