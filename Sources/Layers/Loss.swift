import Foundation
import Kernels

/// Softmax cross-entropy on logits [N, C] with integer targets, mean-reduced, with PyTorch's semantics for
/// label smoothing ε and class weights w:
///   loss_i = (1−ε)·w[y_i]·(−log p[i, y_i]) + (ε/C)·Σ_c w[c]·(−log p[i, c]),   loss = Σ_i loss_i / Σ_i w[y_i].
public struct SoftmaxCrossEntropy: Sendable {
    public var labelSmoothing: Float
    public var classWeights: [Float]?

    public init(labelSmoothing: Float = 0, classWeights: [Float]? = nil) {
        precondition(labelSmoothing >= 0 && labelSmoothing < 1, "label smoothing must be in [0, 1)")
        self.labelSmoothing = labelSmoothing; self.classWeights = classWeights
    }

    /// The loss and dloss/dlogits.
    public func callAsFunction(logits: Tensor, targets: [Int]) -> (loss: Float, gradient: Tensor) {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count, "logits \(logits.shape) vs \(targets.count) targets")
        let z = logits.contiguous(), n = z.shape[0], c = z.shape[1]
        let w = classWeights ?? [Float](repeating: 1, count: c)
        precondition(w.count == c, "\(w.count) class weights for \(c) classes")
        let eps = labelSmoothing, wSum = w.reduce(0, +)
        let grad = Tensor(uninitialized: [n, c])
        var total = 0.0, norm = 0.0
        for i in 0..<n {
            let y = targets[i]
            precondition(y >= 0 && y < c, "target \(y) outside 0..<\(c)")
            let row = z.data + i * c, g = grad.data + i * c
            var mx = -Float.infinity; for j in 0..<c { mx = max(mx, row[j]) }
            var s = 0.0; for j in 0..<c { s += Double(expf(row[j] - mx)) }
            let logZ = Double(mx) + log(s)
            var smooth = 0.0
            for j in 0..<c { smooth += Double(w[j]) * (logZ - Double(row[j])) }
            total += Double((1 - eps) * w[y]) * (logZ - Double(row[y])) + Double(eps) / Double(c) * smooth
            norm += Double(w[y])
            let pScale = (1 - eps) * w[y] + eps / Float(c) * wSum
            for j in 0..<c {
                let p = Float(exp(Double(row[j]) - logZ))
                g[j] = p * pScale - eps / Float(c) * w[j] - (j == y ? (1 - eps) * w[y] : 0)
            }
        }
        let inv = Float(1 / norm)
        for k in 0..<n * c { grad.data[k] *= inv }
        return (Float(total / norm), grad)
    }
}
