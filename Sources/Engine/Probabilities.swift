import Foundation
import Kernels

/// Class scores from logits, for reporting: softmax in Double (no underflow to 0 for a confident mistake's
/// loss), the predicted class and the top k. `ClassifierHead`, `tlab predict` and `tlab demo` all use these;
/// the layers' own softmax (`SoftmaxKernel`, Float) is for training.
public enum Probabilities {
    /// Row `i` of logits [N, C] as Doubles.
    public static func row(_ logits: Tensor, _ i: Int) -> [Double] {
        let c = logits.shape[1]
        return (0..<c).map { Double(logits[i, $0]) }
    }

    /// exp(x − max) / Σ exp(x − max).
    public static func softmax(_ logits: [Double]) -> [Double] {
        guard let top = logits.max() else { return [] }
        let e = logits.map { exp($0 - top) }, z = e.reduce(0, +)
        return e.map { $0 / z }
    }

    /// The index of the largest value (the first of equal ones).
    public static func argmax(_ values: [Double]) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }

    /// The indices of the `k` largest values, largest first (equal values: lower index first).
    public static func topK(_ values: [Double], _ k: Int) -> [Int] {
        Array(values.indices.sorted { (values[$0], -$0) > (values[$1], -$1) }.prefix(k))
    }
}
