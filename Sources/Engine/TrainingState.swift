import Foundation
import Kernels
import Layers
import WeightsIO

/// Where a run is, beyond its weights and optimiser: enough that a resumed run takes exactly the steps the
/// uninterrupted one would have. Saved as JSON in the `last` checkpoint's metadata, next to the tensors, so
/// the two are written atomically together.
struct TrainingProgress: Codable {
    /// Completed epochs, and steps of the next epoch already taken (non-zero after a stop mid-epoch).
    var epoch = 0, stepInEpoch = 0
    /// Optimiser steps in all, the schedule's position.
    var step = 0
    /// This epoch's sample order, and the generator that shuffles it at each epoch's start.
    var order: [Int]
    var generator: SeededGenerator
    /// Dropout / stochastic-depth generators of the backbone and head, in `descendants` order.
    var layerGenerators: [SeededGenerator] = []
    /// Running sums of the epoch in progress.
    var lossSum = 0.0, seen = 0, correct = 0
    var best: ClassificationMetrics?, last: ClassificationMetrics?
    var bestEpoch = 0, sinceBest = 0
    /// Seconds spent training in earlier sessions of this run.
    var elapsed = 0.0
}

/// Checkpoints of a run: `best` holds the model, `last` the model, the optimiser's state and the progress.
/// Model tensors use the backbone's own names and "head." for the new head; a feature-extraction run saves
/// only the head (its backbone is the pretrained one, unchanged).
enum TrainingCheckpoint {
    static let modelFormat = "tlab-model-2"

    static func model(backbone: Sequential?, head: Sequential, arch: String) -> StateDict {
        var entries: [(name: String, tensor: Tensor)] = []
        if let backbone {
            entries += backbone.namedParameters.map { (name: $0.0, tensor: $0.1.value.copy()) }
            entries += backbone.namedBuffers.map { (name: $0.0, tensor: $0.1.copy()) }
        }
        entries += head.namedParameters.map { (name: "head." + $0.0, tensor: $0.1.value.copy()) }
        return StateDict(entries: entries, metadata: ["format": modelFormat, "arch": arch])
    }

    static func last(backbone: Sequential?, head: Sequential, arch: String, optimizer: Optimizer, progress: TrainingProgress) throws -> StateDict {
        var sd = model(backbone: backbone, head: head, arch: arch)
        sd.entries += optimizer.state.map { (name: "optimizer." + $0.0, tensor: $0.1.copy()) }
        sd.metadata["optimizer_steps"] = String(optimizer.stepCount)
        sd.metadata["progress"] = String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)
        return sd
    }

    /// Copies the model tensors of `sd` into `backbone` (when it has any) and `head`; refuses a checkpoint
    /// that does not fit, naming the tensor.
    static func loadModel(_ sd: StateDict, backbone: Sequential?, head: Sequential, file: String) throws {
        guard sd.metadata["format"] == modelFormat else {
            throw ExperimentError("\(file): not a tlab model checkpoint (format \(sd.metadata["format"] ?? "none"))")
        }
        let saved = Dictionary(sd.entries.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        var targets = head.namedParameters.map { ("head." + $0.0, $0.1.value) }
        if let backbone, saved.keys.contains(where: { !$0.hasPrefix("head.") && !$0.hasPrefix("optimizer.") }) {
            targets += backbone.namedParameters.map { ($0.0, $0.1.value) } + backbone.namedBuffers
        }
        for (name, t) in targets {
            guard let s = saved[name] else { throw ExperimentError("\(file): \(name) is missing") }
            guard s.shape == t.shape else { throw ExperimentError("\(file): \(name) has shape \(s.shape), expected \(t.shape)") }
            t.data.update(from: s.contiguous().data, count: t.count)
        }
    }

    /// The optimiser state and progress of a `last` checkpoint.
    static func loadTrainingState(_ sd: StateDict, optimizer: Optimizer, file: String) throws -> TrainingProgress {
        guard let json = sd.metadata["progress"], let steps = sd.metadata["optimizer_steps"].flatMap(Int.init) else {
            throw ExperimentError("\(file): holds no training state to resume from")
        }
        let progress: TrainingProgress
        do { progress = try JSONDecoder().decode(TrainingProgress.self, from: Data(json.utf8)) }
        catch { throw ExperimentError("\(file): unreadable training state (\(error))") }
        let slots = Dictionary(sd.entries.filter { $0.name.hasPrefix("optimizer.") }.map { (String($0.name.dropFirst(10)), $0.tensor) },
                               uniquingKeysWith: { a, _ in a })
        do { try optimizer.restore(state: slots, stepCount: steps) }
        catch { throw ExperimentError("\(file): \(error)") }
        return progress
    }
}
