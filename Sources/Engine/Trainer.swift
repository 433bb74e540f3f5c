import Foundation
import Backbones
import ImageData
import Kernels
import Layers
import WeightsIO

/// What the training loop feeds the trainable part of the model.
enum TrainingInputs {
    /// Pooled features of a frozen backbone, one row per dataset sample: only the head trains.
    case features(Tensor)
    /// Cached activations at the end of a frozen prefix of the backbone, one per dataset sample; `trunk` is
    /// the rest of `features` (the same layers), which trains with the head.
    case activations(Tensor, Backbone, trunk: Sequential)
    /// Images through the backbone, whose groups train as the config's policies say epoch by epoch.
    case images(Backbone, crop: Int, augmentation: Augmentation)
}

/// The one training loop of every strategy: shuffles, steps the optimiser with each group's scheduled
/// learning rate, validates every epoch, keeps best / last checkpoints and obeys pause / stop. Everything
/// random is either saved in `progress` or derived from (seed, epoch, step), so a run stopped or killed
/// and resumed takes the same steps as one that never stopped.
final class Trainer {
    enum Outcome { case finished, stopped, failed(String) }

    let config: ExperimentConfig
    let inputs: TrainingInputs
    let head: Sequential
    let samples: [Sample]
    let trainIdx: [Int], valIdx: [Int]
    let scorer: ClassifierHead
    let groups: [ParameterGroup]
    let optimizer: Optimizer
    let folder: RunFolder
    let control: TrainingControl
    let log: (TrainingEvent) -> Void
    var progress: TrainingProgress
    /// The fixed prefix's output per (training image, flips), when flips are the only augmentation.
    let flippedPrefix: FlippedPrefixCache?
    /// The validation images' activations after the run's fixed prefix (`validationPrefixEnd` children),
    /// kept from the first validation for every later one.
    private var validationPrefix: Tensor?
    /// Every image's evaluation crop, kept from its first decode for later epochs (runs without random crops).
    private let resizedImages: ResizedImageCache?

    var backbone: Backbone? { inputs.backbone }
    /// What the trainable part of the backbone runs on the inputs: all of it, the part after a cached
    /// prefix, or nothing.
    var trunk: Sequential? {
        switch inputs {
        case .features: return nil
        case .activations(_, _, let trunk): return trunk
        case .images(let b, _, _): return b.features
        }
    }
    /// Stochastic layers whose generators are part of the saved state.
    var stochasticLayers: [Stochastic] {
        ((backbone?.features.descendants ?? []) + head.descendants).compactMap { $0 as? Stochastic }
    }

    init(config: ExperimentConfig, inputs: TrainingInputs, head: Sequential, data: LabeledDataset, trainIdx: [Int], valIdx: [Int],
         scorer: ClassifierHead, generator: SeededGenerator, run: RunFolder, control: TrainingControl, cachesFlippedPrefix: Bool = true,
         log: @escaping (TrainingEvent) -> Void) {
        self.config = config; self.inputs = inputs; self.head = head; samples = data.samples
        self.trainIdx = trainIdx; self.valIdx = valIdx; self.scorer = scorer; folder = run; self.control = control; self.log = log
        let wd = Float(config.weightDecay)
        var groups: [ParameterGroup] = []
        if let net = inputs.backbone {
            groups = ExperimentConfig.groupOrder.map { name in
                ParameterGroup(name: name, parameters: net.layers(inGroup: name).flatMap(\.parameters), learningRate: 0, weightDecay: wd)
            }
        }
        groups.append(ParameterGroup(name: "head", parameters: head.parameters, learningRate: Float(config.head.learningRate), weightDecay: wd))
        self.groups = groups
        optimizer = config.optimizer == .sgd ? SGD(groups: groups, momentum: Float(config.momentum)) : AdamW(groups: groups)
        if case .images(_, let crop, let augmentation) = inputs, augmentation.cropScale == nil {
            resizedImages = ResizedImageCache(resize: crop, crop: crop)
        } else {
            resizedImages = nil
        }
        if cachesFlippedPrefix, case .images(let net, let crop, let augmentation) = inputs, augmentation.isFlipsOnly,
           let end = Experiment.fixedPrefixEnd(config, net: net) {
            flippedPrefix = FlippedPrefixCache(net: net, end: end, crop: crop, augmentation: augmentation, capacityBytes: Self.flippedPrefixBytes)
        } else {
            flippedPrefix = nil
        }
        progress = TrainingProgress(order: trainIdx, generator: generator)
        progress.layerGenerators = stochasticLayers.map(\.generator)
    }

    /// Puts the model, optimiser and progress back as the `last` checkpoint holds them.
    func restore(from file: String) throws {
        let sd = try Safetensors.read(path: file)
        try TrainingCheckpoint.loadModel(sd, backbone: backbone?.features, head: head, file: file)
        progress = try TrainingCheckpoint.loadTrainingState(sd, optimizer: optimizer, file: file)
        let layers = stochasticLayers
        guard progress.layerGenerators.count == layers.count else { throw ExperimentError("\(file): random state does not fit the model") }
        for (l, g) in zip(layers, progress.layerGenerators) { l.generator = g }
    }

    /// The memory `flippedPrefix` may fill (ELPV's 1968 training images in all four forms at Lite0's
    /// early-group boundary take 0.92 GiB).
    static let flippedPrefixBytes = 1 << 30

    var batchSize: Int { min(config.batchSize, trainIdx.count) }
    /// Fine-tuning drops the ragged last batch, as fastai does: a tiny batch gives BatchNorm noisy statistics.
    var stepsPerEpoch: Int { trunk == nil ? (trainIdx.count + batchSize - 1) / batchSize : trainIdx.count / batchSize }

    /// Applies the policies in force at `epoch` (0-based): trainable flags, BatchNorm modes, learning rates.
    func applyPolicies(epoch: Int) -> [String] {
        guard let net = backbone else { return [] }
        let policies = config.policies(atEpoch: epoch)
        for (i, name) in ExperimentConfig.groupOrder.enumerated() {
            let p = policies[name]!
            net.setPolicy(group: name, trainable: p.trainable, frozenBatchNorm: p.batchNorm == .frozen)
            groups[i].baseLearningRate = Float(p.trainable ? (p.learningRate ?? 0) : 0)
        }
        return ExperimentConfig.groupOrder.filter { policies[$0]!.trainable }
    }

    /// Per-image augmentation seeds of a batch: a function of (seed, epoch, step, position) only.
    func augmentationSeeds(epoch: Int, step: Int, count: Int) -> [UInt64] {
        (0..<count).map { SeededGenerator.mix(config.seed, UInt64(epoch), UInt64(step), UInt64($0)) }
    }

    /// The inputs of samples `idx`: a training step's (augmented) or validation's (not). `keepingCrops: false`
    /// leaves the images' crops out of `resizedImages` (images whose prefix output is kept instead).
    func load(_ idx: [Int], augmentSeeds: [UInt64]?, keepingCrops: Bool = true) throws -> Tensor {
        switch inputs {
        case .features(let f), .activations(let f, _, _):
            let d = f.count / f.shape[0], t = Tensor(uninitialized: [idx.count] + f.shape.dropFirst())
            for (r, i) in idx.enumerated() { (t.data + r * d).update(from: f.data + i * d, count: d) }
            return t
        case .images(let net, let crop, let augmentation):
            let pre = net.spec.preprocessing
            return try ImageBatch.load(idx.map { samples[$0].path }, resizeShorterSide: crop, crop: crop, mean: pre.mean, std: pre.std,
                                       augmentation: augmentSeeds == nil ? nil : augmentation, seeds: augmentSeeds,
                                       cache: keepingCrops ? resizedImages : nil)
        }
    }

    /// Learning rates as the events carry them: each Float as its shortest decimal (3e-4, not 3.0000001e-4).
    var learningRates: [String: Double] { Dictionary(uniqueKeysWithValues: groups.map { ($0.name, JSONLines.decimal($0.learningRate)) }) }

    /// Where the run is: the epoch in progress (1-based), steps done in all and in it.
    var position: TrainingEvent.Position {
        .init(epoch: progress.epoch + 1, step: progress.step, epochStep: progress.stepInEpoch)
    }

    func batchIndices(_ s: Int) -> [Int] { Array(progress.order[s * batchSize..<min((s + 1) * batchSize, progress.order.count)]) }

    func saveLast() throws {
        progress.layerGenerators = stochasticLayers.map(\.generator)
        try Safetensors.write(try TrainingCheckpoint.last(backbone: backbone?.features, head: head, arch: config.backbone,
                                                          optimizer: optimizer, progress: progress), to: folder.checkpointPath("last"))
    }

    func run() throws -> Outcome {
        // A head alone on cached features does GEMMs of a few hundred kFLOP: OpenBLAS's threads would spend more
        // time waking and yielding than computing.
        let blasThreads = BLASThreads.count
        if trunk == nil { BLASThreads.count = 1 }
        defer { BLASThreads.count = blasThreads }
        let steps = stepsPerEpoch, total = steps * config.epochs, bs = batchSize
        let session = Date(), before = progress.elapsed
        func elapsed() -> Double { before + Date().timeIntervalSince(session) }
        let lossFunction = SoftmaxCrossEntropy()
        let augmented: Bool = { if case .images(_, _, let a) = inputs { return !a.isIdentity } else { return false } }()
        while progress.epoch < config.epochs {
            let epoch = progress.epoch + 1
            let trainable = applyPolicies(epoch: epoch - 1)
            // Gradual unfreezing: say when more groups start training (again after a resume into that epoch;
            // readers keep one per epoch).
            if epoch > 1 {
                let before = config.policies(atEpoch: epoch - 2), newly = trainable.filter { !before[$0]!.trainable }
                if !newly.isEmpty { log(.unfroze(.init(epoch: epoch, groups: newly, trainableGroups: trainable))) }
            }
            // The epoch's order before its shuffle: a stop before the epoch's first step (one that arrived during
            // the last step, validation or the checkpoint) saves this, so a resume shuffles exactly once, as the
            // uninterrupted run does.
            let unshuffled = (order: progress.order, generator: progress.generator)
            if progress.stepInEpoch == 0 {
                var g = progress.generator
                progress.order.shuffle(using: &g)
                progress.generator = g
                progress.lossSum = 0; progress.seen = 0; progress.correct = 0
            }
            let e0 = Date(), firstStep = progress.stepInEpoch
            for s in firstStep..<steps {
                let stop = control.shouldStop(onPause: { self.log(.paused(self.position)) },
                                              onContinue: { self.log(.continued(self.position)) })
                if stop {
                    if s == 0 { (progress.order, progress.generator) = unshuffled }
                    progress.elapsed = elapsed()
                    try saveLast()
                    log(.stopped(position))
                    return .stopped
                }
                let idx = batchIndices(s)
                // The step's images, loaded on this thread with every core (a background loader decoding beside the
                // step's two-way parallel kernels slowed one of their halves while the other core waited: epoch 1
                // of fine-tune-top on ELPV, 37.0 / 36.8 s of steps loading here, 39.1 / 38.3 s prefetching). With
                // the flipped-prefix cache, only the images of the pairs it does not hold.
                let seeds = augmented ? augmentationSeeds(epoch: epoch, step: s, count: idx.count) : nil
                let plan = flippedPrefix?.plan(samples: idx, seeds: seeds)
                let images = try plan.map { p in try load(p.missing.map { idx[$0] }, augmentSeeds: seeds.map { s in p.missing.map { s[$0] } }) }
                    ?? load(idx, augmentSeeds: seeds)
                config.schedule.apply(to: groups, step: progress.step, totalSteps: total)
                optimizer.zeroGrad()
                // With the flipped-prefix cache the trunk starts after the prefix, on its output for the batch.
                let trained: Sequential?, trunkInput: Tensor
                if let cache = flippedPrefix, let plan {
                    // No later epoch reads what the last one would add.
                    (trained, trunkInput) = (cache.rest, cache.activations(plan, images: images, keepingNew: epoch < config.epochs))
                } else {
                    (trained, trunkInput) = (trunk, images)
                }
                let features = trained?.forward(trunkInput, mode: .training) ?? trunkInput
                // The head's input gradient feeds a trainable trunk, so even its first layer keeps for backward.
                let logits = head.forward(features, mode: ForwardMode(training: true, inputGradient: trunk != nil))
                let (l, g) = lossFunction(logits: logits, targets: idx.map { samples[$0].label })
                guard l.isFinite else {
                    let reason = "training loss became \(l) at epoch \(epoch), step \(s + 1); the last good checkpoint is kept (try a lower learning rate)"
                    log(.failed(.init(reason: reason, epoch: epoch)))
                    return .failed(reason)
                }
                progress.correct += Self.correctPredictions(logits, idx.map { samples[$0].label })
                if let trained {
                    if let dFeatures = head.backward(g, needInputGradient: true) { _ = trained.backward(dFeatures, needInputGradient: false) }
                } else {
                    _ = head.backward(g, needInputGradient: false)
                }
                optimizer.step()
                progress.lossSum += Double(l) * Double(idx.count); progress.seen += idx.count
                progress.step += 1; progress.stepInEpoch = s + 1
                if trunk != nil {
                    let t = Date().timeIntervalSince(e0), done = s + 1 - firstStep
                    log(.step(.init(epoch: epoch, step: progress.step, epochStep: s + 1, stepsPerEpoch: steps, loss: Double(l),
                                    imagesPerSecond: Double(done * bs) / t, etaSeconds: t / Double(done) * Double(total - progress.step),
                                    learningRates: learningRates)))
                }
            }
            let trainSeconds = Date().timeIntervalSince(e0), trainedImages = (steps - firstStep) * bs
            let (m, details) = try validate()
            progress.epoch = epoch; progress.stepInEpoch = 0; progress.last = m
            let improved = progress.best == nil || m.loss < progress.best!.loss
            if improved { progress.best = m; progress.bestEpoch = epoch; progress.sinceBest = 0 } else { progress.sinceBest += 1 }
            let seen = Double(max(progress.seen, 1))
            log(.epoch(.init(epoch: epoch, epochs: config.epochs, step: progress.step, trainLoss: progress.lossSum / seen,
                             trainAccuracy: Double(progress.correct) / seen, metrics: m, learningRates: learningRates,
                             trainableGroups: trainable, elapsedSeconds: elapsed(), epochSeconds: Date().timeIntervalSince(e0),
                             imagesPerSecond: Double(min(trainedImages, trainIdx.count)) / max(trainSeconds, 1e-9),
                             worst: Array(details.sorted { $0.loss > $1.loss }.prefix(5)).map(\.brief))))
            guard m.loss.isFinite else {
                let reason = "validation loss became \(m.loss) at epoch \(epoch); the last good checkpoint is kept (try a lower learning rate)"
                log(.failed(.init(reason: reason, epoch: epoch)))
                return .failed(reason)
            }
            progress.elapsed = elapsed()
            try saveLast()
            log(.checkpoint(.init(name: "last", epoch: epoch)))
            if improved {
                try Safetensors.write(TrainingCheckpoint.model(backbone: backbone?.features, head: head, arch: config.backbone),
                                      to: folder.checkpointPath("best"))
                try folder.write(ValidationReport(epoch: epoch, classes: scorer.classNames, samples: details), name: "validation.json")
                log(.checkpoint(.init(name: "best", epoch: epoch)))
            } else if let p = config.patience, progress.sinceBest >= p {
                log(.earlyStop(.init(epoch: epoch, bestEpoch: progress.bestEpoch)))
                return .finished
            }
        }
        return .finished
    }

    /// When a run trains on images behind a fixed prefix (groups frozen with frozen batch norm in every epoch:
    /// fine-tune-top's early group), the backbone child where that prefix ends — if the validation set's
    /// activations there fit in 1 GiB. Validation images are never augmented and those groups never change,
    /// so their output is computed in the first validation and reused by every later one (bit-identical:
    /// each image's result does not depend on the rest of its batch).
    lazy var validationPrefixEnd: Int? = {
        guard case .images(let net, let crop, _) = inputs, let end = Experiment.fixedPrefixEnd(config, net: net) else { return nil }
        return Experiment.activationFloats(net, through: end, crop: crop) * valIdx.count * 4 <= 1 << 30 ? end : nil
    }()

    /// Validation metrics of the current model, in inference mode, and every sample's outcome.
    func validate() throws -> (ClassificationMetrics, [ValidationSample]) {
        let features: Tensor
        if let trunk, let net = backbone {
            features = Tensor(uninitialized: [valIdx.count, net.spec.featureDimension])
            let end = validationPrefixEnd
            let prefix = end.map { Sequential(Array(net.features.children[..<$0])) }
            let rest = end.map { Sequential(Array(net.features.children[$0...])) } ?? trunk
            let cached = validationPrefix
            var filling: Tensor?   // the prefix's output, stored once every batch has gone through
            var start = 0
            while start < valIdx.count {
                let idx = Array(valIdx[start..<min(start + batchSize, valIdx.count)])
                var x: Tensor
                if let cached {
                    x = cached.slice(dim: 0, start..<start + idx.count)
                } else {
                    // With a prefix the images are read once: their prefix output is what later validations use.
                    x = try load(idx, augmentSeeds: nil, keepingCrops: prefix == nil)
                    if let prefix {
                        x = prefix.forward(x, mode: .inference)
                        if filling == nil { filling = Tensor(uninitialized: [valIdx.count] + x.shape.dropFirst()) }
                        (filling!.data + start * (x.count / idx.count)).update(from: x.data, count: x.count)
                    }
                }
                let f = rest.forward(x, mode: .inference)
                (features.data + start * features.shape[1]).update(from: f.data, count: f.count)
                start += idx.count
            }
            if cached == nil { validationPrefix = filling }
        } else {
            features = try load(valIdx, augmentSeeds: nil)
        }
        return scorer.evaluate(head, features, valIdx.map { samples[$0].label }, valIdx.map { samples[$0].group },
                               files: valIdx.map { absolutePath(samples[$0].path) }, indices: valIdx)
    }

    /// Correct argmax predictions among a batch's logits [N, C].
    static func correctPredictions(_ logits: Tensor, _ labels: [Int]) -> Int {
        let c = logits.shape[1], x = logits.contiguous()
        return labels.enumerated().reduce(0) { n, item in
            let row = x.data + item.offset * c
            var best = 0
            for j in 1..<c where row[j] > row[best] { best = j }
            return n + (best == item.element ? 1 : 0)
        }
    }
}

extension TrainingInputs {
    var backbone: Backbone? {
        switch self {
        case .features: return nil
        case .activations(_, let b, _), .images(let b, _, _): return b
        }
    }
}
