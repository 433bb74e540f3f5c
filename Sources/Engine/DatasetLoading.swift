import Foundation
import ImageData

/// The one place a `DatasetConfig` becomes a dataset: `Experiment`, `tlab features`, `tlab demo` and the
/// workbench all load through here (a command-line `--dataset` string goes through `DatasetConfig(argument:)`).
public struct LoadedDataset: Sendable {
    public let dataset: LabeledDataset
    /// The split the dataset fixes itself (an image folder with train/ and val/), if any.
    public let predefinedSplit: (train: [Int], validation: [Int])?
    /// The positive side of the binary view the dataset defines (ELPV: defective), if any.
    public let positive: (@Sendable (Int) -> Bool)?
}

extension DatasetConfig {
    /// Reads the dataset: ELPV from `path` or the home's ELPV folder, an image folder, or a CSV manifest.
    public func load(paths: ExperimentPaths = ExperimentPaths()) throws -> LoadedDataset {
        switch kind {
        case .elpv:
            return LoadedDataset(dataset: try ELPV.load(root: path ?? paths.elpvRoot), predefinedSplit: nil,
                                 positive: { ELPV.isDefective(classIndex: $0) })
        case .csv:
            return LoadedDataset(dataset: try LabeledDataset.csvManifest(path: try required()), predefinedSplit: nil, positive: nil)
        case .folder:
            let (d, split) = try LabeledDataset.imageFolder(root: try required())
            return LoadedDataset(dataset: d, predefinedSplit: split, positive: nil)
        }
    }

    private func required() throws -> String {
        guard let path, !path.isEmpty else { throw ExperimentConfig.Invalid(field: "dataset.path", reason: "a \(kind.rawValue) dataset needs a path") }
        return path
    }
}
