import ArgumentParser
import Engine
import Foundation
import ImageData
import Kernels
import Layers

/// What `make run` opens until the workbench exists: a small CNN trained from scratch on ELPV, headless.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a small CNN from scratch on ELPV and print loss and accuracy per epoch (headless demo).")

    @Option(help: "ELPV data folder (holds labels.csv).") var data = ExperimentPaths().elpvRoot
    @Option(parsing: .unconditional, help: "Side of the square input images.") var size = 64
    @Option(parsing: .unconditional, help: "Training epochs.") var epochs = 4
    @Option(parsing: .unconditional, help: "Batch size.") var batch = 32
    @Option(parsing: .unconditional, help: "Learning rate (AdamW, cosine schedule).") var lr: Float = 3e-3
    @Option(parsing: .unconditional, help: "Seed for the split, the weights and the batch order.") var seed: UInt64 = 0

    func validate() throws {
        guard size >= 16, epochs > 0, batch > 1, lr > 0 else { throw ValidationError("need --size ≥ 16, --epochs > 0, --batch > 1, --lr > 0") }
        guard size <= 1024, batch <= 4096, lr.isFinite else { throw ValidationError("need --size ≤ 1024, --batch ≤ 4096 and a finite --lr") }
    }

    func run() throws {
        let t0 = now()
        var paths = ExperimentPaths()
        paths.elpvRoot = data
        let dataset = try DatasetConfig.elpv.load(paths: paths).dataset
        let (trainIdx, valIdx) = Split.stratified(labels: dataset.labels, validationFraction: 0.25, seed: seed)
        print("ELPV: \(dataset.samples.count) images, classes \(dataset.classCounts), split \(trainIdx.count) train / \(valIdx.count) validation")
        let pixels = try loadImages(dataset.samples.map(\.path))
        print(String(format: "decoded and resized to %d×%d in %.1f s", size, size, now() - t0))

        var gen = SeededGenerator(seed: seed)
        let net = Sequential([
            Conv2d(1, 16, kernel: 3, stride: 2, padding: .explicit(1, 1), bias: false, generator: &gen), BatchNorm(16), ActivationLayer(.relu),
            Conv2d(16, 32, kernel: 3, stride: 2, padding: .explicit(1, 1), bias: false, generator: &gen), BatchNorm(32), ActivationLayer(.relu),
            Conv2d(32, 64, kernel: 3, stride: 2, padding: .explicit(1, 1), bias: false, generator: &gen), BatchNorm(64), ActivationLayer(.relu),
            GlobalAvgPool(), Dropout(0.2, seed: seed), Linear(64, 4, generator: &gen),
        ])
        let opt = AdamW(groups: [ParameterGroup(name: "all", parameters: net.parameters, learningRate: lr, weightDecay: 1e-4)])
        let schedule = Schedule.cosine(warmupSteps: 10, minFactor: 0.01)
        let stepsPerEpoch = trainIdx.count / batch, total = stepsPerEpoch * epochs
        let loss = SoftmaxCrossEntropy()
        let plane = size * size
        func batchTensor(_ idx: ArraySlice<Int>) -> Tensor {
            let t = Tensor(uninitialized: [idx.count, 1, size, size])
            for (b, i) in idx.enumerated() { pixels[i].withUnsafeBufferPointer { (t.data + b * plane).update(from: $0.baseAddress!, count: plane) } }
            return t
        }
        var order = trainIdx
        for epoch in 1...epochs {
            let e0 = now()
            order.shuffle(using: &gen)
            var sum = 0.0
            for s in 0..<stepsPerEpoch {
                let idx = order[s * batch..<(s + 1) * batch]
                schedule.apply(to: opt.groups, step: (epoch - 1) * stepsPerEpoch + s, totalSteps: total)
                opt.zeroGrad()
                let logits = net.forward(batchTensor(idx), mode: .training)
                let (l, g) = loss(logits: logits, targets: idx.map { dataset.samples[$0].label })
                guard l.isFinite else { throw ValidationError("loss became \(l) at epoch \(epoch) step \(s); stopping") }
                _ = net.backward(g, needInputGradient: false)
                opt.step()
                sum += Double(l)
            }
            var correct = 0, correctBinary = 0
            for start in stride(from: 0, to: valIdx.count, by: 128) {
                let idx = valIdx[start..<min(start + 128, valIdx.count)]
                let logits = net.forward(batchTensor(idx), mode: .inference)
                for (b, i) in idx.enumerated() {
                    let pred = Probabilities.argmax(Probabilities.row(logits, b)), truth = dataset.samples[i].label
                    if pred == truth { correct += 1 }
                    if ELPV.isDefective(classIndex: pred) == ELPV.isDefective(classIndex: truth) { correctBinary += 1 }
                }
            }
            let n = Double(valIdx.count)
            print(String(format: "epoch %d/%d  train loss %.4f  val acc %.1f %%  binary %.1f %%  (%.1f s, %.0f img/s)",
                         epoch, epochs, sum / Double(stepsPerEpoch), 100 * Double(correct) / n, 100 * Double(correctBinary) / n,
                         now() - e0, Double(stepsPerEpoch * batch) / (now() - e0)))
        }
    }

    /// Decodes and resizes every image on all cores; values normalised as (p − 127) / 128.
    func loadImages(_ paths: [String]) throws -> [[Float]] {
        var out = [[Float]](repeating: [], count: paths.count)
        try out.withUnsafeMutableBufferPointer { slots in
            let slots = slots
            try Parallel.forEachIndex(paths.count, grain: 16) { i in
                let gray = try PNGCodec.decode(file: paths[i]).grayscale()
                slots[i] = Resample.resize(gray, width: size, height: size).map { ($0 - 127) / 128 }
            }
        }
        return out
    }
}
