import Foundation
import Backbones
import ImageData
import Kernels
import Layers
import WeightsIO

/// Trains backbone groups and the new head together (fine-tune-top, fine-tune-all, gradual): each group has
/// its own trainable flag, learning rate and BatchNorm mode, as the config says for the current epoch.
struct FineTuner {
    let config: ExperimentConfig
    let net: Backbone
    let head: Sequential
    let data: LabeledDataset
    let crop: Int
    let positive: ((Int) -> Bool)?

    /// Every BatchNorm inside `layer`.
    static func batchNorms(in layer: Layer) -> [BatchNorm] {
        switch layer {
        case let b as BatchNorm: return [b]
        case let s as Sequential: return s.layers.flatMap(batchNorms)
        case let r as Residual: return batchNorms(in: r.body) + (r.shortcut.map(batchNorms) ?? [])
        case let c as Concat: return c.branches.flatMap { batchNorms(in: $0.1) }
        default: return []
        }
    }

    /// Applies the policies in force at `epoch`: trainable flags, BatchNorm modes and learning rates.
    func apply(epoch: Int, groups: [ParameterGroup]) -> [String: GroupPolicy] {
        let policies = config.policies(atEpoch: epoch)
        for (i, name) in ExperimentConfig.groupOrder.enumerated() {
            let p = policies[name]!
            let layers = net.layers(inGroup: name)
            for l in layers { l.setTrainable(p.trainable) }
            for bn in layers.flatMap(Self.batchNorms) {
                bn.usesRunningStatistics = p.batchNorm == .frozen
                let bnTrainable = p.trainable && p.batchNorm == .train
                bn.weight.trainable = bnTrainable; bn.bias.trainable = bnTrainable
            }
            groups[i].baseLearningRate = Float(p.trainable ? (p.learningRate ?? 0) : 0)
        }
        return policies
    }

    /// A batch of images: decoded, resized to the input size, flipped as the config allows, normalised.
    func batch(_ idx: [Int], augment: Bool, generator: inout SeededGenerator) throws -> Tensor {
        let pre = net.spec.preprocessing
        let flips = idx.map { _ in (horizontal: augment && config.augmentation.horizontalFlip && generator.nextFloat() < 0.5,
                                    vertical: augment && config.augmentation.verticalFlip && generator.nextFloat() < 0.5) }
        return try ImageBatch.load(idx.map { data.samples[$0].path }, resizeShorterSide: crop, crop: crop,
                                   mean: pre.mean, std: pre.std, flips: flips)
    }

    func stateDict() -> StateDict {
        StateDict(entries: net.features.namedParameters.map { (name: $0.0, tensor: $0.1.value.copy()) }
                    + net.features.namedBuffers.map { (name: $0.0, tensor: $0.1.copy()) }
                    + head.namedParameters.map { (name: "head." + $0.0, tensor: $0.1.value.copy()) },
                  metadata: ["format": "tlab-model-1", "arch": net.spec.name])
    }

    /// Nil when the loss stopped being finite (a `failed` event says why); throws when an image or a
    /// checkpoint cannot be read or written, with the file in the message.
    func train(trainIdx: [Int], valIdx: [Int], run: RunFolder, log: ([String: Any]) -> Void) throws
        -> (best: ClassificationMetrics, bestEpoch: Int, last: ClassificationMetrics, epochs: Int)? {
        var gen = SeededGenerator(seed: config.seed &+ 1)
        let groups = ExperimentConfig.groupOrder.map { name in
            ParameterGroup(name: name, parameters: net.layers(inGroup: name).flatMap(\.parameters), learningRate: 0,
                           weightDecay: Float(config.weightDecay))
        } + [ParameterGroup(name: "head", parameters: head.parameters, learningRate: Float(config.head.learningRate),
                            weightDecay: Float(config.weightDecay))]
        let opt: Optimizer = config.optimizer == "sgd" ? SGD(groups: groups, momentum: Float(config.momentum)) : AdamW(groups: groups)
        let bs = min(config.batchSize, trainIdx.count), steps = trainIdx.count / bs, total = steps * config.epochs
        let trainer = HeadTrainer(config: config, classNames: data.classNames, positive: positive)
        var best: ClassificationMetrics?, last: ClassificationMetrics?, bestEpoch = 0, sinceBest = 0, step = 0
        let t0 = Date()
        var order = trainIdx
        for epoch in 1...config.epochs {
            let policies = apply(epoch: epoch - 1, groups: groups)
            let e0 = Date()
            order.shuffle(using: &gen)
            var sum = 0.0
            for s in 0..<steps {
                let idx = Array(order[s * bs..<(s + 1) * bs])
                let x = try batch(idx, augment: true, generator: &gen)
                config.schedule.apply(to: groups, step: step, totalSteps: total)
                opt.zeroGrad()
                let features = net.features.forward(x, mode: .training)
                let logits = head.forward(features, mode: .training)
                let (l, g) = SoftmaxCrossEntropy()(logits: logits, targets: idx.map { data.samples[$0].label })
                guard l.isFinite else {
                    log(["event": "failed", "reason": "loss became \(l) at epoch \(epoch), step \(s + 1); the last good checkpoint is kept", "epoch": epoch])
                    return nil
                }
                if let dFeatures = head.backward(g, needInputGradient: true) { _ = net.features.backward(dFeatures, needInputGradient: false) }
                opt.step()
                sum += Double(l)
                step += 1
                let elapsed = Date().timeIntervalSince(e0)
                log(["event": "step", "epoch": epoch, "step": s + 1, "steps": steps, "loss": Double(l),
                     "img_per_s": Double((s + 1) * bs) / elapsed, "eta_s": elapsed / Double(s + 1) * Double(total - step)])
            }
            // Validation: inference mode, batch by batch.
            let vf = Tensor(uninitialized: [valIdx.count, net.spec.featureDimension])
            var start = 0
            while start < valIdx.count {
                let idx = Array(valIdx[start..<min(start + bs, valIdx.count)])
                let x = try batch(idx, augment: false, generator: &gen)
                let f = net.features.forward(x, mode: .inference)
                (vf.data + start * vf.shape[1]).update(from: f.data, count: f.count)
                start += idx.count
            }
            let (m, _) = trainer.evaluate(head, vf, valIdx.map { data.samples[$0].label }, valIdx.map { data.samples[$0].group })
            last = m
            var event: [String: Any] = ["event": "epoch", "epoch": epoch, "epochs": config.epochs, "train_loss": sum / Double(max(steps, 1)),
                                        "val_loss": m.loss, "val_acc": m.accuracy, "elapsed_s": Date().timeIntervalSince(t0),
                                        "lr": Dictionary(uniqueKeysWithValues: groups.map { ($0.name, Double($0.learningRate)) }),
                                        "trainable_groups": ExperimentConfig.groupOrder.filter { policies[$0]!.trainable }]
            if let b = m.binaryAccuracy { event["val_acc_binary"] = b }
            log(event)
            try Safetensors.write(stateDict(), to: run.checkpointPath("last"))
            if best == nil || m.loss < best!.loss {
                best = m; bestEpoch = epoch; sinceBest = 0
                try Safetensors.write(stateDict(), to: run.checkpointPath("best"))
                log(["event": "checkpoint", "name": "best", "epoch": epoch])
            } else {
                sinceBest += 1
                if let p = config.patience, sinceBest >= p { log(["event": "early_stop", "epoch": epoch, "best_epoch": bestEpoch]); return (best!, bestEpoch, m, epoch) }
            }
        }
        return (best!, bestEpoch, last!, config.epochs)
    }
}
