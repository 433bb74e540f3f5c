import Foundation
import Kernels
import WeightsIO

/// Converting checkpoints to tlab's safetensors files and loading them back.
public enum PretrainedWeights {
    /// Prefixes training scripts wrap state dicts in (`torch.save({"state_dict": …})`, DataParallel's `module.`).
    static let wrapperPrefixes = ["state_dict.", "model.", "module.", "model_state_dict.", "net."]

    /// Reads a PyTorch (.pth/.pt/.bin, legacy or zip) or safetensors checkpoint.
    public static func readCheckpoint(_ path: String) throws -> StateDict {
        let head = FileHandle(forReadingAtPath: path).map { h -> [UInt8] in defer { try? h.close() }; return [UInt8](h.readData(ofLength: 16)) }
        guard let head else { throw WeightsError("\(path): cannot open") }
        let isPyTorch = (head.starts(with: [0x50, 0x4B, 0x03, 0x04])) || (head.first == 0x80)
        return isPyTorch ? try TorchCheckpoint.read(path: path) : try Safetensors.read(path: path)
    }

    /// Removes wrapper prefixes shared by every name, repeatedly (`module.model.` → ``).
    public static func stripWrappers(_ sd: StateDict) -> StateDict {
        var out = sd
        while let p = wrapperPrefixes.first(where: { p in !out.entries.isEmpty && out.entries.allSatisfy { $0.name.hasPrefix(p) } }) {
            out.entries = out.entries.map { (name: String($0.name.dropFirst(p.count)), tensor: $0.tensor) }
        }
        // Optimiser state or other non-tensor entries never reach here; drop stray extras that are not weights.
        return out
    }

    /// Validates `source` against `arch` (every name and shape) and writes it as safetensors with provenance.
    @discardableResult
    public static func importCheckpoint(_ source: String, arch: String, to destination: String) throws -> Backbone {
        guard let net = Backbones.make(arch) else {
            throw WeightsError("unknown architecture '\(arch)'; known: \(Backbones.names.joined(separator: ", "))")
        }
        let sd = stripWrappers(try readCheckpoint(source))
        try net.load(sd, includeClassifier: sd.names.contains { $0.hasPrefix(net.classifierName + ".") })
        let pre = net.spec.preprocessing
        let meta: [String: String] = [
            "format": "tlab-weights-1", "arch": arch,
            "source": (source as NSString).lastPathComponent, "source_sha256": try sha256Hex(ofFile: source),
            "resolution": String(pre.resolution), "resize": String(pre.resizeTo),
            "mean": pre.mean.map { String($0) }.joined(separator: ","), "std": pre.std.map { String($0) }.joined(separator: ","),
            "channel_order": pre.channelOrder,
        ]
        try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent.isEmpty ? "." :
                                                    (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Safetensors.write(net.stateDict(metadata: meta), to: destination)
        return net
    }

    /// A backbone with the weights of a tlab safetensors file (checks the file was made for `arch`).
    public static func load(arch: String, from path: String) throws -> Backbone {
        guard let net = Backbones.make(arch) else {
            throw WeightsError("unknown architecture '\(arch)'; known: \(Backbones.names.joined(separator: ", "))")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw WeightsError("\(path): no such file. \(arch)'s weights: \(net.spec.weightsSource)")
        }
        let sd = try Safetensors.read(path: path)
        if let made = sd.metadata["arch"], made != arch { throw WeightsError("\(path) holds \(made) weights, not \(arch)") }
        try net.load(sd)
        return net
    }

    /// NAME.safetensors under `directory` (the default directory is `ExperimentPaths.weights`, in Engine).
    public static func defaultPath(arch: String, directory: String) -> String {
        (directory as NSString).appendingPathComponent("\(arch).safetensors")
    }
}
