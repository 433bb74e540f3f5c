import ArgumentParser
import Backbones
import Foundation

struct ListBackbones: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backbones",
        abstract: "List the backbones with their preprocessing, size, layer groups and whether weights are present.")

    @Option(help: "Folder holding NAME.safetensors weight files.") var weightsDir = "weights"
    @Flag(help: "One JSON object per backbone per line.") var json = false

    func run() throws {
        for spec in Backbones.specs {
            let net = Backbones.make(spec.name)!
            let path = PretrainedWeights.defaultPath(arch: spec.name, directory: weightsDir)
            let present = FileManager.default.fileExists(atPath: path)
            let flops = net.flops()
            let groups = net.groups.map { g in (g.name, net.layers(inGroup: g.name).reduce(0) { $0 + $1.parameterCount }) }
            let p = spec.preprocessing
            if json {
                print(jsonLine([("name", spec.name), ("summary", spec.summary), ("resolution", p.resolution), ("resize", p.resizeTo),
                                ("mean", p.mean.map(Double.init)), ("std", p.std.map(Double.init)), ("channel_order", p.channelOrder),
                                ("gray_to_color", p.grayToColor), ("parameters", net.parameterCount), ("gflops", flops / 1e9),
                                ("feature_dim", spec.featureDimension), ("groups", groups.map { $0.0 }),
                                ("group_parameters", groups.map { $0.1 }), ("weights_present", present), ("weights_file", path),
                                ("weights_source", spec.weightsSource)]))
            } else {
                print("\(spec.name)\(present ? "  [weights present]" : "")")
                print("  \(spec.summary)")
                print(String(format: "  %.2fM parameters, %.2f GFLOPs at %d×%d, %d-d features", Double(net.parameterCount) / 1e6, flops / 1e9,
                             p.resolution, p.resolution, spec.featureDimension))
                print("  input: resize \(p.resizeTo), crop \(p.resolution), mean \(p.mean), std \(p.std), \(p.channelOrder); gray: \(p.grayToColor)")
                print("  groups: " + groups.map { String(format: "%@ %.2fM", $0.0, Double($0.1) / 1e6) }.joined(separator: ", ") + ", then the new head")
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
    @Option(help: "Output file (default: weights/ARCH.safetensors).") var out: String?

    func validate() throws {
        guard Backbones.spec(arch) != nil else { throw ValidationError("unknown --arch '\(arch)'; known: \(Backbones.names.joined(separator: ", "))") }
    }

    func run() throws {
        let destination = out ?? PretrainedWeights.defaultPath(arch: arch)
        let net = try PretrainedWeights.importCheckpoint(file, arch: arch, to: destination)
        print("wrote \(destination): \(arch), \(net.namedTensors.count) tensors, \(net.parameterCount) parameters")
    }
}
