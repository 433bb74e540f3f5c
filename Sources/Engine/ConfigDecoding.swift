import Foundation
import Layers

// Hand-written configs may leave out any field that has a default; only name, dataset, backbone and groups
// are required. (Synthesised Decodable would demand every key.) A key no field has is refused (`UnknownKeys`).

extension KeyedDecodingContainer {
    func value<T: Decodable>(_ key: Key, or fallback: T) throws -> T { try decodeIfPresent(T.self, forKey: key) ?? fallback }
}

extension ExperimentConfig {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, name, dataset, split, backbone, resolution, groups, head, optimizer, momentum, weightDecay,
             schedule, epochs, batchSize, patience, seed, augmentation, unfreezeEvery
    }

    public init(from decoder: Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.schedule) { try Self.refuseUnknownScheduleKeys(decoder) }
        let d = ExperimentConfig(name: "", dataset: .elpv, backbone: "", groups: [:])
        version = try c.value(.version, or: d.version)
        name = try c.decode(String.self, forKey: .name)
        dataset = try c.decode(DatasetConfig.self, forKey: .dataset)
        split = try c.value(.split, or: d.split)
        backbone = try c.decode(String.self, forKey: .backbone)
        resolution = try c.decodeIfPresent(Int.self, forKey: .resolution)
        groups = try c.decode([String: GroupPolicy].self, forKey: .groups)
        head = try c.value(.head, or: d.head)
        optimizer = try c.value(.optimizer, or: d.optimizer)
        momentum = try c.value(.momentum, or: d.momentum)
        weightDecay = try c.value(.weightDecay, or: d.weightDecay)
        schedule = try c.value(.schedule, or: d.schedule)
        epochs = try c.value(.epochs, or: d.epochs)
        batchSize = try c.value(.batchSize, or: d.batchSize)
        patience = try c.decodeIfPresent(Int.self, forKey: .patience)
        seed = try c.value(.seed, or: d.seed)
        augmentation = try c.value(.augmentation, or: d.augmentation)
        unfreezeEvery = try c.decodeIfPresent(Int.self, forKey: .unfreezeEvery)
    }

    public init(name: String, dataset: DatasetConfig, backbone: String, groups: [String: GroupPolicy]) {
        self.name = name; self.dataset = dataset; self.backbone = backbone; self.groups = groups
    }

    /// `Schedule` (in Layers) decodes as `{"cosine": {"warmupSteps": N, "minFactor": F}}`; its keys are checked
    /// here: the kind, then the kind's parameters.
    static let scheduleKeys = ["constant": [String](), "step": ["every", "gamma"], "cosine": ["warmupSteps", "minFactor"],
                               "oneCycle": ["pctStart", "divFactor", "finalDivFactor"]]
    static func refuseUnknownScheduleKeys(_ decoder: Decoder) throws {
        let kinds = ["constant", "step", "cosine", "oneCycle"]
        try UnknownKeys.check(decoder, known: kinds, at: ["schedule"])
        let container = try decoder.container(keyedBy: UnknownKeys.AnyKey.self)
            .nestedContainer(keyedBy: UnknownKeys.AnyKey.self, forKey: .init(stringValue: "schedule"))
        for kind in container.allKeys.map(\.stringValue) where kinds.contains(kind) {
            try UnknownKeys.check(decoder, known: scheduleKeys[kind]!, at: ["schedule", kind])
        }
    }
}

extension DatasetConfig {
    enum CodingKeys: String, CodingKey, CaseIterable { case kind, path }
    public init(from decoder: Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(Kind.self, forKey: .kind); path = try c.decodeIfPresent(String.self, forKey: .path)
    }
}

extension HeadConfig {
    enum CodingKeys: String, CodingKey, CaseIterable { case kind, hidden, dropout, learningRate }
    public init(from decoder: Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self), d = HeadConfig()
        kind = try c.value(.kind, or: d.kind); hidden = try c.decodeIfPresent(Int.self, forKey: .hidden)
        dropout = try c.value(.dropout, or: d.dropout); learningRate = try c.value(.learningRate, or: d.learningRate)
    }
}

extension SplitConfig {
    enum CodingKeys: String, CodingKey, CaseIterable { case validationFraction, seed, folds, fold }
    public init(from decoder: Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self), d = SplitConfig()
        validationFraction = try c.value(.validationFraction, or: d.validationFraction); seed = try c.value(.seed, or: d.seed)
        folds = try c.decodeIfPresent(Int.self, forKey: .folds); fold = try c.value(.fold, or: d.fold)
    }
}

extension AugmentationConfig {
    enum CodingKeys: String, CodingKey, CaseIterable { case randomResizedCrop, cropScale, horizontalFlip, verticalFlip, rotationDegrees, brightness, contrast }
    public init(from decoder: Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self), d = AugmentationConfig()
        randomResizedCrop = try c.value(.randomResizedCrop, or: d.randomResizedCrop)
        cropScale = try c.value(.cropScale, or: d.cropScale)
        horizontalFlip = try c.value(.horizontalFlip, or: d.horizontalFlip); verticalFlip = try c.value(.verticalFlip, or: d.verticalFlip)
        rotationDegrees = try c.value(.rotationDegrees, or: d.rotationDegrees)
        brightness = try c.value(.brightness, or: d.brightness); contrast = try c.value(.contrast, or: d.contrast)
    }
}

extension GroupPolicy {
    enum CodingKeys: String, CodingKey, CaseIterable { case trainable, learningRate, batchNorm }
    public init(from decoder: Decoder) throws {
        try decoder.refuseUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        trainable = try c.decode(Bool.self, forKey: .trainable)
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate)
        // Frozen groups default to Keras's inference-mode BatchNorm, trainable ones to full training.
        batchNorm = try c.value(.batchNorm, or: trainable ? .train : .frozen)
    }
}
