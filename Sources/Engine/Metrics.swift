import Foundation

/// Validation results of one epoch: accuracy, per-class precision / recall / F1 / support, the confusion
/// matrix (rows = truth, columns = prediction), per-subgroup accuracy and, when the dataset defines one, the
/// accuracy of a binary view of the classes (ELPV: defective = p ≥ 0.5).
public struct ClassificationMetrics: Codable, Equatable, Sendable {
    public var classNames: [String]
    public var confusion: [[Int]]
    public var loss: Double
    public var accuracy: Double
    public var precision: [Double], recall: [Double], f1: [Double], support: [Int]
    public var macroF1: Double
    public var groupAccuracy: [String: Double]
    public var groupSupport: [String: Int]
    public var binaryAccuracy: Double?

    /// `predictions[i]` and `truth[i]` are class indices; `groups[i]` the sample's subgroup, if any;
    /// `positive` maps a class to the positive side of a binary view.
    public init(classNames: [String], truth: [Int], predictions: [Int], loss: Double,
                groups: [String?] = [], positive: ((Int) -> Bool)? = nil) {
        precondition(truth.count == predictions.count, "truth and predictions differ in length")
        let k = classNames.count
        self.classNames = classNames
        self.loss = loss
        var m = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (t, p) in zip(truth, predictions) { m[t][p] += 1 }
        confusion = m
        let n = truth.count
        accuracy = n == 0 ? 0 : Double((0..<k).reduce(0) { $0 + m[$1][$1] }) / Double(n)
        let sup = (0..<k).map { c in m[c].reduce(0, +) }
        let prec = (0..<k).map { c -> Double in
            let predicted = (0..<k).reduce(0) { $0 + m[$1][c] }
            return predicted == 0 ? 0 : Double(m[c][c]) / Double(predicted)
        }
        let rec = (0..<k).map { c in sup[c] == 0 ? 0 : Double(m[c][c]) / Double(sup[c]) }
        let f = (0..<k).map { c -> Double in
            let p = prec[c], r = rec[c]
            return p + r == 0 ? 0 : 2 * p * r / (p + r)
        }
        support = sup; precision = prec; recall = rec; f1 = f
        macroF1 = k == 0 ? 0 : f.reduce(0, +) / Double(k)
        var right: [String: Int] = [:], seen: [String: Int] = [:]
        for (i, g) in groups.enumerated() {
            guard let g else { continue }
            seen[g, default: 0] += 1
            if truth[i] == predictions[i] { right[g, default: 0] += 1 }
        }
        groupSupport = seen
        groupAccuracy = seen.mapValues { _ in 0 }
        for (g, s) in seen { groupAccuracy[g] = Double(right[g, default: 0]) / Double(s) }
        if let positive, n > 0 {
            binaryAccuracy = Double(zip(truth, predictions).filter { positive($0) == positive($1) }.count) / Double(n)
        } else {
            binaryAccuracy = nil
        }
    }
}
