import ArgumentParser
import Backbones
import Engine
import Foundation

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a ready experiment config (JSON) for a preset, to edit and pass to `tlab train --config`.",
        discussion: "Presets: \(ExperimentConfig.presetNames.joined(separator: ", ")).")

    @Option(help: "Preset: \(ExperimentConfig.presetNames.joined(separator: ", ")).") var preset: ExperimentConfig.Preset
    @Option(help: "Backbone.") var backbone = "efficientnet_lite0"
    @Option(help: "Dataset: elpv, or a folder (root/CLASS/*.png), or a CSV manifest (path,label[,group]).") var dataset = "elpv"
    @Option(help: "Learning rate of the new head (the groups' rates follow from it).") var headLr: Double = 1e-3

    func run() throws {
        let c = ExperimentConfig.preset(preset, backbone: backbone, dataset: DatasetConfig(argument: dataset), headLR: headLr)
        try c.validate(knownBackbones: Backbones.names)
        print(String(decoding: try c.encoded(), as: UTF8.self))
    }
}
