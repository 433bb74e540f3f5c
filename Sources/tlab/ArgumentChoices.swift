import ArgumentParser
import Engine

// The engine's named choices as command-line values (Engine itself knows nothing of ArgumentParser). A wrong
// value is refused by the parser with the list of choices.
extension ExperimentConfig.Preset: ExpressibleByArgument {}
extension ExperimentConfig.Optimizer: ExpressibleByArgument {}
extension DatasetConfig.Kind: ExpressibleByArgument {}
