import ArgumentParser
import Backbones
import Engine
import Foundation

struct ListBackbones: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backbones",
        abstract: "List the backbones with their preprocessing, size, layer groups and whether weights are present.")

    @Option(help: "Folder holding NAME.safetensors weight files.") var weightsDir = ExperimentPaths().weights
    @Flag(help: "One JSON object per backbone per line.") var json = false

    /// What `backbones --json` prints for one backbone (group lists in group order).
    struct Line: Encodable {
        var name, summary: String
        var resolution, resize: Int
        var mean, std: [Float]
        var channelOrder, grayToColor: String
        var parameters: Int
        var gflops: Double
        var featureDimension: Int
        var groups: [String]
        var groupParameters: [Int]
        var groupLayers: [String]
        var weightsPresent: Bool
        var weightsFile, weightsSource: String
        enum CodingKeys: String, CodingKey {
            case name, summary, resolution, resize, mean, std, parameters, gflops, groups
            case channelOrder = "channel_order", grayToColor = "gray_to_color", featureDimension = "feature_dim"
            case groupParameters = "group_parameters", groupLayers = "group_layers", weightsPresent = "weights_present"
            case weightsFile = "weights_file", weightsSource = "weights_source"
        }
    }

    /// Everything printed is a written-down fact of the spec: no network is built.
    func run() throws {
        for spec in Backbones.specs {
            let path = PretrainedWeights.defaultPath(arch: spec.name, directory: weightsDir)
            let present = FileManager.default.fileExists(atPath: path)
            let groups = spec.groupNames
            let p = spec.preprocessing
            if json {
                print(try JSONLines.string(Line(name: spec.name, summary: spec.summary, resolution: p.resolution, resize: p.resizeTo, mean: p.mean, std: p.std,
                                        channelOrder: p.channelOrder, grayToColor: p.grayToColor, parameters: spec.parameters, gflops: spec.gflops,
                                        featureDimension: spec.featureDimension, groups: groups,
                                        groupParameters: groups.map { spec.groupParameters[$0] ?? 0 }, groupLayers: groups.map { spec.groupLayers[$0] ?? "" },
                                        weightsPresent: present, weightsFile: path, weightsSource: spec.weightsSource)))
            } else {
                print("\(spec.name)\(present ? "  [weights present]" : "")")
                print("  \(spec.summary)")
                print(String(format: "  %.2fM parameters, %.2f GFLOPs at %d×%d, %d-d features", Double(spec.parameters) / 1e6, spec.gflops,
                             p.resolution, p.resolution, spec.featureDimension))
                print("  input: resize \(p.resizeTo), crop \(p.resolution), mean \(p.mean), std \(p.std), \(p.channelOrder); gray: \(p.grayToColor)")
                print("  groups: " + groups.map { String(format: "%@ %.2fM (%@)", $0, Double(spec.groupParameters[$0] ?? 0) / 1e6, spec.groupLayers[$0] ?? "") }
                    .joined(separator: ", ") + ", then the new head")
                print("  weights: \(present ? path : spec.weightsSource)")
            }
        }
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a PyTorch (.pth, legacy or zip) or safetensors checkpoint into tlab's safetensors weights.",
        discussion: "Names must be torchvision's (timm's for vit_ti16, lukemelas' for efficientnet_lite0); every missing, unexpected or misshapen tensor is reported by name. Nothing in the checkpoint is executed.")

    @Argument(help: "The checkpoint to convert.") var file: String
    @Option(help: "Architecture: \(Backbones.names.joined(separator: ", ")).") var arch: String
    @Option(help: "Output file (default: ARCH.safetensors in the home's weights/ folder).") var out: String?

    func validate() throws {
        guard Backbones.spec(arch) != nil else { throw ValidationError("unknown --arch '\(arch)'; known: \(Backbones.names.joined(separator: ", "))") }
    }

    func run() throws {
        let destination = out ?? ExperimentPaths().weightsFile(arch)
        let net = try PretrainedWeights.importCheckpoint(file, arch: arch, to: destination)
        print("wrote \(destination): \(arch), \(net.namedTensors.count) tensors, \(net.parameterCount) parameters")
    }
}
