/// How a run uses its backbone, as `Experiment.strategy(of:)` derives it from the config. Events and
/// summary.json carry its name (`"strategy": "feature-extraction"`).
public enum Strategy: String, Sendable, CaseIterable {
    /// Every group is a fixed function and nothing is augmented: pooled features are computed (or taken from
    /// the cache) once and only the new head trains.
    case featureExtraction = "feature-extraction"
    /// The backbone runs on images (or on a cached frozen prefix's output) and some of it trains.
    case fineTuning = "fine-tuning"
    /// Starts frozen and unfreezes one more group every `unfreezeEvery` epochs.
    case gradual
}
