import Foundation
import Kernels
import Layers

/// The new classification head and how a head is scored on validation features.
public struct ClassifierHead {
    public var config: ExperimentConfig
    public var classNames: [String]
    public var positive: ((Int) -> Bool)?

    public init(config: ExperimentConfig, classNames: [String], positive: ((Int) -> Bool)? = nil) {
        self.config = config; self.classNames = classNames; self.positive = positive
    }

    /// Dropout then linear, or linear → ReLU → dropout → linear for `mlp`.
    public func make(features: Int, generator g: inout SeededGenerator) -> Sequential {
        let c = classNames.count, h = config.head
        switch h.kind {
        case .linear:
            return Sequential([("dropout", Dropout(h.dropout, seed: config.seed)), ("fc", Linear(features, c, generator: &g))])
        case .mlp:
            let hidden = h.hidden ?? 256
            return Sequential([("fc1", Linear(features, hidden, generator: &g)), ("relu", ActivationLayer(.relu)),
                               ("dropout", Dropout(h.dropout, seed: config.seed)), ("fc2", Linear(hidden, c, generator: &g))])
        }
    }

    /// Metrics of `head` on features `x` [N, D] with labels `y`, and every sample's outcome (`files[i]` names
    /// sample i, `indices[i]` its dataset index).
    public func evaluate(_ head: Layer, _ x: Tensor, _ y: [Int], _ groups: [String?], files: [String] = [], indices: [Int] = [])
        -> (ClassificationMetrics, [ValidationSample]) {
        let logits = head.forward(x, mode: .inference)
        let (l, _) = SoftmaxCrossEntropy()(logits: logits, targets: y)
        var samples: [ValidationSample] = []
        for i in 0..<y.count {
            let row = Probabilities.row(logits, i)
            let probs = Probabilities.softmax(row)
            samples.append(ValidationSample(index: indices.isEmpty ? i : indices[i], file: files.isEmpty ? "" : files[i], truth: y[i],
                                            prediction: Probabilities.argmax(row),
                                            loss: -log(max(probs[y[i]], .leastNormalMagnitude)), probabilities: probs,
                                            group: i < groups.count ? groups[i] : nil))
        }
        let metrics = ClassificationMetrics(classNames: classNames, truth: y, predictions: samples.map(\.prediction), loss: Double(l),
                                            groups: groups, positive: positive)
        return (metrics, samples)
    }
}
