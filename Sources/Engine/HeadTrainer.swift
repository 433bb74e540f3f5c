import Foundation
import Kernels
import Layers
import WeightsIO

/// Trains the new head on cached features of a frozen backbone (the feature-extraction strategy): the
/// backbone costs one forward pass per image, each epoch only the head.
public struct HeadTrainer {
    public var config: ExperimentConfig
    public var classNames: [String]
    public var positive: ((Int) -> Bool)?

    public init(config: ExperimentConfig, classNames: [String], positive: ((Int) -> Bool)? = nil) {
        self.config = config; self.classNames = classNames; self.positive = positive
    }

    public enum Outcome { case finished(best: ClassificationMetrics, bestEpoch: Int, last: ClassificationMetrics, epochs: Int), failed(String) }

    /// The head: dropout then linear, or linear → ReLU → dropout → linear for `mlp`.
    public func makeHead(features: Int, generator g: inout SeededGenerator) -> Sequential {
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

    /// Runs every epoch, reporting each through `emit` (and the run folder, when given).
    public func train(train xTrain: Tensor, _ yTrain: [Int], validation xVal: Tensor, _ yVal: [Int], valGroups: [String?],
                      run: RunFolder?, emit: ([String: Any]) -> Void) throws -> Outcome {
        var gen = SeededGenerator(seed: config.seed)
        let d = xTrain.shape[1], n = yTrain.count, bs = min(config.batchSize, n)
        let head = makeHead(features: d, generator: &gen)
        let group = ParameterGroup(name: "head", parameters: head.parameters, learningRate: Float(config.head.learningRate),
                                   weightDecay: Float(config.weightDecay))
        let opt: Optimizer = config.optimizer == "sgd" ? SGD(groups: [group], momentum: Float(config.momentum)) : AdamW(groups: [group])
        let loss = SoftmaxCrossEntropy()
        let stepsPerEpoch = (n + bs - 1) / bs, total = stepsPerEpoch * config.epochs
        var best: ClassificationMetrics?, last: ClassificationMetrics?, bestEpoch = 0, sinceBest = 0, step = 0
        let t0 = Date()
        func log(_ e: [String: Any]) throws { emit(e); try run?.append(e) }

        var order = Array(0..<n)
        for epoch in 1...config.epochs {
            order.shuffle(using: &gen)
            var sum = 0.0
            for s in 0..<stepsPerEpoch {
                let idx = Array(order[s * bs..<min((s + 1) * bs, n)])
                let x = Tensor(uninitialized: [idx.count, d])
                for (b, i) in idx.enumerated() { (x.data + b * d).update(from: xTrain.data + i * d, count: d) }
                config.schedule.apply(to: opt.groups, step: step, totalSteps: total)
                opt.zeroGrad()
                let logits = head.forward(x, mode: .training)
                let (l, g) = loss(logits: logits, targets: idx.map { yTrain[$0] })
                guard l.isFinite else {
                    let reason = "loss became \(l) at epoch \(epoch), step \(s + 1); the last good checkpoint is kept"
                    try log(["event": "failed", "reason": reason, "epoch": epoch])
                    return .failed(reason)
                }
                _ = head.backward(g, needInputGradient: false)
                opt.step()
                sum += Double(l) * Double(idx.count)
                step += 1
            }
            let (metrics, _) = evaluate(head, xVal, yVal, valGroups)
            last = metrics
            var event: [String: Any] = ["event": "epoch", "epoch": epoch, "epochs": config.epochs, "train_loss": sum / Double(n),
                                        "val_loss": metrics.loss, "val_acc": metrics.accuracy, "lr": ["head": Double(group.learningRate)],
                                        "elapsed_s": Date().timeIntervalSince(t0)]
            if let b = metrics.binaryAccuracy { event["val_acc_binary"] = b }
            try log(event)
            if let run { try Safetensors.write(stateDict(head), to: run.checkpointPath("last")) }
            if best == nil || metrics.loss < best!.loss {
                best = metrics; bestEpoch = epoch; sinceBest = 0
                if let run {
                    try Safetensors.write(stateDict(head), to: run.checkpointPath("best"))
                    try log(["event": "checkpoint", "name": "best", "epoch": epoch])
                }
            } else {
                sinceBest += 1
                if let p = config.patience, sinceBest >= p {
                    try log(["event": "early_stop", "epoch": epoch, "best_epoch": bestEpoch])
                    return .finished(best: best!, bestEpoch: bestEpoch, last: last!, epochs: epoch)
                }
            }
        }
        return .finished(best: best!, bestEpoch: bestEpoch, last: last!, epochs: config.epochs)
    }

    func stateDict(_ head: Sequential) -> StateDict {
        StateDict(entries: head.namedParameters.map { (name: $0.0, tensor: $0.1.value.copy()) }, metadata: ["format": "tlab-head-1"])
    }

    /// Validation metrics of `head` on features `x`.
    public func evaluate(_ head: Layer, _ x: Tensor, _ y: [Int], _ groups: [String?]) -> (ClassificationMetrics, Tensor) {
        let logits = head.forward(x, mode: .inference)
        let (l, _) = SoftmaxCrossEntropy()(logits: logits, targets: y)
        let c = classNames.count
        let pred = (0..<y.count).map { i in (0..<c).max { logits[i, $0] < logits[i, $1] }! }
        return (ClassificationMetrics(classNames: classNames, truth: y, predictions: pred, loss: Double(l), groups: groups, positive: positive), logits)
    }
}
