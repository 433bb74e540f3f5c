import Backbones
import Engine
import Foundation
import ImageData
import Layers
import TerminalUI

/// A backbone as the setup screen lists it: static facts, so listing needs no network to be built.
struct BackboneChoice: Sendable, Equatable {
    var name: String
    var parameters: Int
    var gflops: Double
    var resolution: Int
    var featureDimension: Int
    var weightsPresent: Bool
    var weightsPath: String
    var groupParameters: [String: Int]
    var groupLayers: [String: String]

    /// Parameters of a group ("early", …) or of the new head ("head") for `config` with `classes` classes.
    func parameters(_ row: String, config: ExperimentConfig, classes k: Int) -> Int {
        if row != "head" { return groupParameters[row] ?? 0 }
        let d = featureDimension
        if config.head.kind == .mlp { let h = config.head.hidden ?? 256; return (d + 1) * h + (h + 1) * k }
        return (d + 1) * k
    }

    /// What a run of `config` trains at some point (the head and every group trainable in any epoch) and the
    /// size of the network it trains in (groups without the ImageNet classifier, plus the head).
    func parameterCounts(_ config: ExperimentConfig, classes k: Int) -> (trainable: Int, total: Int) {
        let head = parameters("head", config: config, classes: k)
        let trained = Set((0..<config.epochs).flatMap { e in config.policies(atEpoch: e).filter(\.value.trainable).map(\.key) })
        return (head + trained.reduce(0) { $0 + (groupParameters[$1] ?? 0) }, head + groupParameters.values.reduce(0, +))
    }

    static func all(weightsDirectory: String) -> [BackboneChoice] {
        Backbones.specs.map { spec in
            let path = PretrainedWeights.defaultPath(arch: spec.name, directory: weightsDirectory)
            return BackboneChoice(name: spec.name, parameters: spec.parameters, gflops: spec.gflops, resolution: spec.preprocessing.resolution,
                                  featureDimension: spec.featureDimension, weightsPresent: FileManager.default.fileExists(atPath: path),
                                  weightsPath: path, groupParameters: spec.groupParameters, groupLayers: spec.groupLayers)
        }
    }
}

/// What the dataset pane shows: classes with counts, subgroups, the split sizes — or why it cannot be read.
struct DatasetPreview: Sendable, Equatable {
    var name = ""
    var images = 0
    var classes: [(name: String, count: Int)] = []
    var groups: [(name: String, count: Int)] = []
    var train = 0, validation = 0
    var error: String?

    static func == (a: DatasetPreview, b: DatasetPreview) -> Bool {
        a.name == b.name && a.images == b.images && a.classes.map(\.name) == b.classes.map(\.name) && a.classes.map(\.count) == b.classes.map(\.count)
            && a.groups.map(\.name) == b.groups.map(\.name) && a.train == b.train && a.validation == b.validation && a.error == b.error
    }

    static func load(_ config: ExperimentConfig, paths: ExperimentPaths) -> DatasetPreview {
        do {
            let (data, train, validation, _) = try Experiment.loadData(config, paths: paths)
            var counts = [Int](repeating: 0, count: data.classNames.count)
            var groupCounts: [String: Int] = [:]
            for s in data.samples { counts[s.label] += 1; if let g = s.group { groupCounts[g, default: 0] += 1 } }
            return DatasetPreview(name: data.name, images: data.samples.count, classes: zip(data.classNames, counts).map { ($0, $1) },
                                  groups: groupCounts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
                                  train: train.count, validation: validation.count, error: nil)
        } catch {
            return DatasetPreview(error: "\(error)")
        }
    }
}

/// The setup screen's model: an `ExperimentConfig` being edited, the preset it came from (nil once a group row
/// is edited: "custom"), what has focus and what is being typed. Every change goes through the config
/// validator, whose message is shown in place.
struct SetupForm {
    enum Pane: Int, CaseIterable { case backbone, dataset, groups, options }

    /// A value being typed into a cell.
    enum EditTarget: Equatable { case learningRate(group: String), option(OptionKey), dataset }
    struct Editor { var target: EditTarget; var field: TextField }

    var backbones: [BackboneChoice]
    var config: ExperimentConfig
    var preset: ExperimentConfig.Preset?
    var dataset: DatasetPreview
    var focus: Pane = .groups
    var backboneRow = 0, groupRow = 0, optionRow = 0
    var editor: Editor?
    /// Why the config cannot run as it stands (the validator's message), or nil.
    var problem: String?

    static let rows = ExperimentConfig.groupOrder + ["head"]

    init(backbones: [BackboneChoice], backbone: String, dataset: DatasetConfig, preset: ExperimentConfig.Preset, paths: ExperimentPaths) {
        self.backbones = backbones
        backboneRow = backbones.firstIndex { $0.name == backbone } ?? 0
        config = ExperimentConfig.preset(preset, backbone: backbone, dataset: dataset)
        self.preset = preset
        self.dataset = DatasetPreview.load(config, paths: paths)
        validate()
    }

    var backbone: BackboneChoice { backbones[backboneRow] }
    var presetLabel: String { preset?.rawValue ?? "custom" }

    mutating func validate() {
        do { try config.validate(knownBackbones: Backbones.names); problem = nil } catch { problem = "\(error)" }
    }

    /// Why Enter cannot start this config, or nil.
    var startProblem: String? {
        if let problem { return problem }
        if let e = dataset.error { return e }
        if !backbone.weightsPresent {
            return "no pretrained weights for \(backbone.name): import them with `tlab import FILE.pth --arch \(backbone.name)` (writes \(backbone.weightsPath))"
        }
        return nil
    }

    // MARK: changes

    mutating func selectBackbone(_ row: Int) {
        backboneRow = max(0, min(backbones.count - 1, row))
        config.backbone = backbone.name
        validate()
    }

    mutating func applyPreset(_ name: ExperimentConfig.Preset) {
        var next = ExperimentConfig.preset(name, backbone: config.backbone, dataset: config.dataset, headLR: config.head.learningRate)
        next.seed = config.seed; next.batchSize = config.batchSize; next.split = config.split; next.resolution = config.resolution
        config = next
        preset = name
        validate()
    }

    mutating func cyclePreset(_ delta: Int) {
        let names = ExperimentConfig.Preset.allCases
        let i = preset.flatMap { names.firstIndex(of: $0) } ?? (delta > 0 ? -1 : 0)
        applyPreset(names[(i + delta + names.count) % names.count])
    }

    /// Editing a group row makes the experiment "custom".
    private mutating func becameCustom() {
        if preset != nil { preset = nil; config.name = "custom" }
    }

    mutating func toggleTrained(group: String) {
        guard group != "head" else { return }
        // Gradual runs unfreeze on their own schedule; editing a row takes the groups back under manual control.
        if config.unfreezeEvery != nil { config.unfreezeEvery = nil }
        let p = config.groups[group] ?? .frozen
        config.groups[group] = p.trainable ? .frozen : .trained(config.gradualLearningRate(for: group))
        becameCustom()
        validate()
    }

    mutating func cycleBatchNorm(group: String) {
        guard group != "head", var p = config.groups[group] else { return }
        let modes = GroupPolicy.BatchNormMode.allCases
        p.batchNorm = modes[((modes.firstIndex(of: p.batchNorm) ?? 0) + 1) % modes.count]
        config.groups[group] = p
        becameCustom()
        validate()
    }

    mutating func beginEditing(_ target: EditTarget) {
        let text: String
        switch target {
        case .learningRate(let g):
            if g == "head" { text = "\(config.head.learningRate)" }
            else {
                guard let p = config.groups[g], p.trainable else { problem = "\(g) is frozen: Space trains it first"; return }
                text = p.learningRate.map { "\($0)" } ?? ""
            }
        case .option(let key): text = key.editText(config)
        case .dataset: text = config.dataset.kind == .elpv ? "elpv" : (config.dataset.path ?? "")
        }
        editor = Editor(target: target, field: TextField(text: text))
    }

    /// Applies the typed text: a bad one stays in the field with the reason, a good one is validated as a config.
    mutating func commitEdit(paths: ExperimentPaths) {
        guard var e = editor else { return }
        let text = e.field.text.trimmingCharacters(in: .whitespaces)
        var next = config
        switch e.target {
        case .learningRate(let g):
            guard let v = Double(text), v.isFinite, v > 0 else { e.field.error = "'\(text)' is not a positive number (e.g. 1e-4)"; editor = e; return }
            if g == "head" {
                // The head's rate sets the others' ratios while a preset is in force, as `tlab train --preset --head-lr` does.
                if let p = preset { next.groups = ExperimentConfig.preset(p, backbone: next.backbone, dataset: next.dataset, headLR: v).groups }
                next.head.learningRate = v
            } else { next.groups[g]?.learningRate = v }
        case .option(let key):
            do { try key.set(&next, text) } catch { e.field.error = "\(error)"; editor = e; return }
        case .dataset:
            next.dataset = text.isEmpty ? .elpv : DatasetConfig(argument: text == "elpv" ? text : absolutePath((text as NSString).expandingTildeInPath))
            let preview = DatasetPreview.load(next, paths: paths)
            if let err = preview.error { e.field.error = err; editor = e; return }
            dataset = preview
        }
        do { try next.validate(knownBackbones: Backbones.names) } catch { e.field.error = "\(error)"; editor = e; return }
        if case .learningRate(let g) = e.target, g != "head" { becameCustom() }
        config = next
        if preset == nil { config.name = "custom" }
        editor = nil
        validate()
    }

    // MARK: what the rows say

    /// Parameters of a group, or of the new head.
    func parameters(_ row: String) -> Int { backbone.parameters(row, config: config, classes: max(dataset.classes.count, 2)) }

    /// Parameters of the network being trained: the backbone's groups (without its ImageNet classifier) and the new head.
    var totalParameters: Int { backbone.parameterCounts(config, classes: max(dataset.classes.count, 2)).total }

    /// Parameters that train at some point of the run (the head, and every group trainable in any epoch).
    var trainableParameters: Int { backbone.parameterCounts(config, classes: max(dataset.classes.count, 2)).trainable }

    /// The epoch (1-based) a gradual run unfreezes `group`, if it does.
    func unfreezeEpoch(_ group: String) -> Int? {
        guard config.unfreezeEvery != nil else { return nil }
        return (0..<config.epochs).first { config.policies(atEpoch: $0)[group]?.trainable == true }.map { $0 + 1 }
    }

    func headDescription() -> String {
        let k = max(dataset.classes.count, 2), d = backbone.featureDimension
        return config.head.kind == .mlp ? "mlp \(d)→\(config.head.hidden ?? 256)→\(k)" : "linear \(d)→\(k)"
    }
}

/// The run options below the group table: each one cycles through choices (←→) or is typed (e).
enum OptionKey: String, CaseIterable {
    case epochs, batch, optimizer, schedule, weightDecay = "weight decay", augmentation, head, dropout, unfreezeEvery = "unfreeze every",
         patience, seed

    static let augmentations: [(String, AugmentationConfig)] = {
        var crop = AugmentationConfig(randomResizedCrop: true, horizontalFlip: true, verticalFlip: true)
        crop.cropScale = [0.5, 1]
        var full = AugmentationConfig(randomResizedCrop: true, horizontalFlip: true, verticalFlip: true, rotationDegrees: 10, brightness: 0.2, contrast: 0.2)
        full.cropScale = [0.5, 1]
        return [("none", .none), ("flips", AugmentationConfig(horizontalFlip: true, verticalFlip: true)), ("flips + crop", crop),
                ("flips + crop + rotate + colour", full)]
    }()
    static let schedules: [(String, Schedule)] = [("constant", .constant), ("cosine", .cosine(warmupSteps: 0, minFactor: 0.01)),
                                                   ("one-cycle", .defaultOneCycle)]

    /// The key that reaches this option from anywhere on the setup screen (typed ones open for typing,
    /// chosen ones move to their next choice).
    var hotkey: Character {
        switch self {
        case .epochs: "E"
        case .batch: "B"
        case .optimizer: "o"
        case .schedule: "c"
        case .weightDecay: "W"
        case .augmentation: "a"
        case .head: "m"
        case .dropout: "D"
        case .unfreezeEvery: "u"
        case .patience: "P"
        case .seed: "r"
        }
    }

    /// Typed (a number) rather than chosen from a list.
    var isTyped: Bool { [.epochs, .batch, .weightDecay, .dropout, .unfreezeEvery, .patience, .seed].contains(self) }

    func value(_ c: ExperimentConfig) -> String {
        switch self {
        case .epochs: "\(c.epochs)"
        case .batch: "\(c.batchSize)"
        case .optimizer: c.optimizer == .sgd ? "sgd, momentum \(c.momentum)" : c.optimizer.rawValue
        case .schedule: Self.schedules.first { $0.1 == c.schedule }?.0 ?? "\(c.schedule)"
        case .weightDecay: "\(c.weightDecay)"
        case .augmentation: c.augmentation.summary
        case .head: c.head.kind == .mlp ? "mlp \(c.head.hidden ?? 256)" : "linear"
        case .dropout: "\(c.head.dropout)"
        case .unfreezeEvery: c.unfreezeEvery.map { "\($0) epochs" } ?? "—"
        case .patience: c.patience.map { "\($0) epochs" } ?? "—"
        case .seed: "\(c.seed)"
        }
    }

    func editText(_ c: ExperimentConfig) -> String {
        switch self {
        case .unfreezeEvery: c.unfreezeEvery.map { "\($0)" } ?? ""
        case .patience: c.patience.map { "\($0)" } ?? ""
        default: value(c)
        }
    }

    struct Refused: Error, CustomStringConvertible { let description: String }

    func set(_ c: inout ExperimentConfig, _ text: String) throws {
        func int(_ range: ClosedRange<Int>) throws -> Int {
            guard let v = Int(text), range.contains(v) else { throw Refused(description: "'\(text)': \(rawValue) must be a whole number in \(range.lowerBound)…\(range.upperBound)") }
            return v
        }
        func double(_ range: ClosedRange<Double>) throws -> Double {
            guard let v = Double(text), range.contains(v) else { throw Refused(description: "'\(text)': \(rawValue) must be a number in \(range.lowerBound)…\(range.upperBound)") }
            return v
        }
        switch self {
        case .epochs: c.epochs = try int(1...10_000)
        case .batch: c.batchSize = try int(1...1024)
        case .weightDecay: c.weightDecay = try double(0...1)
        case .dropout: c.head.dropout = Float(try double(0...0.95))
        case .unfreezeEvery: c.unfreezeEvery = text.isEmpty || text == "—" ? nil : try int(1...1000)
        case .patience: c.patience = text.isEmpty || text == "—" ? nil : try int(1...1000)
        case .seed:
            guard let v = UInt64(text) else { throw Refused(description: "'\(text)': the seed is a whole number ≥ 0") }
            c.seed = v
        default: break
        }
    }

    /// Moves a chosen option to its next (+1) or previous (−1) choice.
    func cycle(_ c: inout ExperimentConfig, _ delta: Int) {
        func next<T>(_ list: [(String, T)], _ current: Int?) -> T { list[((current ?? -1) + delta + list.count) % list.count].1 }
        switch self {
        case .optimizer: c.optimizer = c.optimizer == .sgd ? .adamw : .sgd
        case .schedule: c.schedule = next(Self.schedules, Self.schedules.firstIndex { $0.1 == c.schedule })
        case .augmentation: c.augmentation = next(Self.augmentations, Self.augmentations.firstIndex { $0.1 == c.augmentation })
        case .head:
            if c.head.kind == .linear { c.head.kind = .mlp; c.head.hidden = c.head.hidden ?? 256 } else { c.head.kind = .linear }
        case .epochs: c.epochs = max(1, c.epochs + delta)
        case .batch: c.batchSize = max(1, delta > 0 ? c.batchSize * 2 : c.batchSize / 2)
        case .seed: c.seed = delta > 0 ? c.seed + 1 : (c.seed == 0 ? 0 : c.seed - 1)
        case .unfreezeEvery:
            let v = (c.unfreezeEvery ?? 0) + delta
            c.unfreezeEvery = v <= 0 ? nil : v
        case .patience:
            let v = (c.patience ?? 0) + delta
            c.patience = v <= 0 ? nil : v
        case .weightDecay, .dropout: break
        }
    }
}
