import Foundation
import ImageData

/// What `tlab eval` shows from a run's validation.json without touching the model: the metrics the
/// recompute path gives (`RunRecords.evaluate`), per-subgroup precision / recall / F1, the highest-loss
/// mistakes and the most confused class pairs.
extension ValidationReport {
    /// The report's metrics: the confusion matrix, per-class and per-group scores from the samples' truth and
    /// prediction, the loss as the mean of the samples' losses; `positive` gives the binary view, if any.
    public func metrics(positive: ((Int) -> Bool)? = nil) -> ClassificationMetrics {
        Self.metrics(classes, samples, positive: positive)
    }

    static func metrics(_ classes: [String], _ samples: [ValidationSample], positive: ((Int) -> Bool)?) -> ClassificationMetrics {
        let loss = samples.isEmpty ? 0 : samples.reduce(0) { $0 + $1.loss } / Double(samples.count)
        return ClassificationMetrics(classNames: classes, truth: samples.map(\.truth), predictions: samples.map(\.prediction), loss: loss,
                                     groups: samples.map(\.group), positive: positive)
    }

    /// One `ClassificationMetrics` per subgroup, computed from that subgroup's samples only (its per-class
    /// precision / recall / F1, its confusion matrix), in subgroup-name order. Samples without a subgroup are
    /// left out; empty when the dataset has none.
    public func groupMetrics(positive: ((Int) -> Bool)? = nil) -> [(group: String, metrics: ClassificationMetrics)] {
        var byGroup: [String: [ValidationSample]] = [:]
        for s in samples { if let g = s.group { byGroup[g, default: []].append(s) } }
        return byGroup.keys.sorted().map { ($0, Self.metrics(classes, byGroup[$0]!, positive: positive)) }
    }

    /// The `n` wrong predictions with the highest loss, highest first (ties: dataset order).
    public func worst(_ n: Int) -> [ValidationSample] {
        Array(samples.filter { $0.truth != $0.prediction }
            .sorted { $0.loss != $1.loss ? $0.loss > $1.loss : $0.index < $1.index }.prefix(max(0, n)))
    }
}

extension ClassificationMetrics {
    /// Each truth row of the confusion matrix divided by its total (rows without samples stay 0).
    public var rowNormalizedConfusion: [[Double]] {
        confusion.map { row in
            let n = row.reduce(0, +)
            return row.map { n == 0 ? 0 : Double($0) / Double(n) }
        }
    }

    /// A pair of classes the model confused: `count` images of `truth` predicted as `predicted`, `rate` their
    /// share of the `truth` row.
    public struct ConfusedPair: Codable, Sendable, Equatable {
        public var truth, predicted: String
        public var count: Int
        public var rate: Double
        public init(truth: String, predicted: String, count: Int, rate: Double) {
            self.truth = truth; self.predicted = predicted; self.count = count; self.rate = rate
        }
    }

    /// The off-diagonal cells of the confusion matrix that are not zero, largest count first (ties: truth,
    /// then predicted class in class order); at most `limit` of them.
    public func mostConfused(limit: Int = .max) -> [ConfusedPair] {
        var pairs: [(Int, Int, Int)] = []
        for (t, row) in confusion.enumerated() { for (p, n) in row.enumerated() where t != p && n > 0 { pairs.append((t, p, n)) } }
        pairs.sort { $0.2 != $1.2 ? $0.2 > $1.2 : ($0.0, $0.1) < ($1.0, $1.1) }
        return pairs.prefix(max(0, limit)).map { t, p, n in
            ConfusedPair(truth: classNames[t], predicted: classNames[p], count: n, rate: Double(n) / Double(max(1, support[t])))
        }
    }
}

extension DatasetConfig {
    /// The positive side of the binary view this kind of dataset defines (ELPV: defective), without loading it
    /// — what `LoadedDataset.positive` is for the same config.
    public var binaryPositive: (@Sendable (Int) -> Bool)? {
        guard kind == .elpv else { return nil }
        return { (i: Int) -> Bool in ELPV.isDefective(classIndex: i) }
    }
}
