import Foundation

/// What a run reports as it goes. The engine emits these to its caller (CLI, workbench) and appends their
/// `json` form, one line each, to the run's metrics.jsonl — the file any viewer can tail.
public enum TrainingEvent {
    case started(Start)
    /// Backbone pass over the dataset for feature extraction: images done of total.
    case features(done: Int, total: Int)
    case featuresReady(cacheHit: Bool, seconds: Double)
    /// A resumed run continues after `epoch` completed epochs and `step` optimiser steps.
    case resumed(epoch: Int, step: Int)
    case step(Step)
    case epoch(Epoch)
    case checkpoint(name: String, epoch: Int)
    case paused(epoch: Int, step: Int)
    case continued(epoch: Int, step: Int)
    /// Stopped on request; the `last` checkpoint holds everything `--resume` needs.
    case stopped(epoch: Int, step: Int)
    case earlyStop(epoch: Int, bestEpoch: Int)
    case failed(reason: String, epoch: Int?)
    case summary(run: String, valAcc: Double, valAccBinary: Double?, wallSeconds: Double)

    public struct Start {
        public var run, strategy, backbone, dataset: String
        public var train, validation: Int
        public var classes: [String]
        public var batchNorm: [String: String]
    }

    public struct Step {
        public var epoch, step, steps: Int
        public var loss: Double
        public var imagesPerSecond, etaSeconds: Double
        /// Effective learning rate of every parameter group in this step.
        public var learningRates: [String: Double]
    }

    public struct Epoch {
        public var epoch, epochs: Int
        public var trainLoss, valLoss, valAcc: Double
        public var valAccBinary: Double?
        public var learningRates: [String: Double]
        public var trainableGroups: [String]
        public var elapsedSeconds: Double
        /// The highest-loss validation images of this epoch.
        public var worst: [ValidationSample]
    }

    public var name: String {
        switch self {
        case .started: "started"
        case .features: "features"
        case .featuresReady: "features_ready"
        case .resumed: "resumed"
        case .step: "step"
        case .epoch: "epoch"
        case .checkpoint: "checkpoint"
        case .paused: "paused"
        case .continued: "continued"
        case .stopped: "stopped"
        case .earlyStop: "early_stop"
        case .failed: "failed"
        case .summary: "summary"
        }
    }

    /// The metrics.jsonl line (and `tlab train --json` line) of this event.
    public var json: [String: Any] {
        var j: [String: Any] = ["event": name]
        switch self {
        case .started(let s):
            j.merge(["run": s.run, "strategy": s.strategy, "backbone": s.backbone, "dataset": s.dataset, "train": s.train,
                     "validation": s.validation, "classes": s.classes, "batchnorm": s.batchNorm]) { a, _ in a }
        case .features(let done, let total): j["done"] = done; j["total"] = total
        case .featuresReady(let hit, let seconds): j["cache_hit"] = hit; j["seconds"] = seconds
        case .resumed(let epoch, let step), .paused(let epoch, let step), .continued(let epoch, let step), .stopped(let epoch, let step):
            j["epoch"] = epoch; j["step"] = step
        case .step(let s):
            j.merge(["epoch": s.epoch, "step": s.step, "steps": s.steps, "loss": s.loss, "img_per_s": s.imagesPerSecond,
                     "eta_s": s.etaSeconds, "lr": s.learningRates]) { a, _ in a }
        case .epoch(let e):
            j.merge(["epoch": e.epoch, "epochs": e.epochs, "train_loss": e.trainLoss, "val_loss": e.valLoss, "val_acc": e.valAcc,
                     "lr": e.learningRates, "trainable_groups": e.trainableGroups, "elapsed_s": e.elapsedSeconds,
                     "worst": e.worst.map(\.json)]) { a, _ in a }
            if let b = e.valAccBinary { j["val_acc_binary"] = b }
        case .checkpoint(let name, let epoch): j["name"] = name; j["epoch"] = epoch
        case .earlyStop(let epoch, let best): j["epoch"] = epoch; j["best_epoch"] = best
        case .failed(let reason, let epoch): j["reason"] = reason; if let epoch { j["epoch"] = epoch }
        case .summary(let run, let acc, let binary, let wall):
            j["run"] = run; j["val_acc"] = acc; j["wall_s"] = wall
            if let binary { j["val_acc_binary"] = binary }
        }
        return j
    }
}

/// One validation image's outcome, for the worst-mistakes view.
public struct ValidationSample: Codable, Equatable, Sendable {
    public var index: Int
    public var file: String
    public var truth: Int, prediction: Int
    public var loss: Double
    public var probabilities: [Double]

    /// The epoch event's form; `fullJSON` (validation.json) adds the class probabilities.
    var json: [String: Any] { ["index": index, "file": file, "truth": truth, "prediction": prediction, "loss": loss] }
    var fullJSON: [String: Any] { json.merging(["probabilities": probabilities]) { a, _ in a } }
}
