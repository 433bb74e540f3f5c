import ArgumentParser
import Backbones
import Engine
import Foundation
import ImageData
import Kernels

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Classify PNG images with a pretrained backbone's ImageNet head.",
        discussion: "Preprocessing is the backbone's own (see `tlab backbones`). Weights come from NAME.safetensors in the home's weights/ folder unless --weights is given.")

    @Option(help: "Backbone name.") var backbone = "efficientnet_lite0"
    @Flag(help: "Use the original ImageNet-1k classifier (the only head `predict` knows so far).") var imagenet = false
    @Option(parsing: .unconditional, help: "How many classes to print per image.") var top = 5
    @Option(help: "Weights file (default: NAME.safetensors in the home's weights/ folder).") var weights: String?
    @Flag(help: "One JSON line per file: {\"file\", \"top\": [{\"class\", \"label\", \"p\"}]}.") var json = false
    @Argument(help: "PNG files.") var files: [String]

    func validate() throws {
        guard imagenet else { throw ValidationError("say --imagenet: predicting with a trained run's head is not available yet") }
        guard Backbones.spec(backbone) != nil else { throw ValidationError("unknown backbone '\(backbone)'; known: \(Backbones.names.joined(separator: ", "))") }
        guard (1...1000).contains(top) else { throw ValidationError("--top must be between 1 and 1000") }
        guard !files.isEmpty else { throw ValidationError("give at least one PNG file") }
    }

    /// What `predict --json` prints for one file.
    struct Line: Encodable {
        struct Top: Encodable {
            var classIndex: Int, label: String, p: Double
            enum CodingKeys: String, CodingKey { case classIndex = "class", label, p }
        }
        var file: String
        var top: [Top]
    }

    func run() throws {
        let net = try PretrainedWeights.load(arch: backbone, from: weights ?? ExperimentPaths().weightsFile(backbone))
        let p = net.spec.preprocessing, r = p.resolution
        // A file that cannot be read is reported on stderr and the others still get their results; the exit
        // status says that one failed.
        var failures = 0
        let readable = files.filter { f in
            do { _ = try ImageBatch.load([f], resizeShorterSide: p.resizeTo, crop: r, mean: p.mean, std: p.std); return true } catch {
                failures += 1
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                return false
            }
        }
        defer { if failures > 0 { Foundation.exit(1) } }
        for chunk in stride(from: 0, to: readable.count, by: 16).map({ Array(readable[$0..<min($0 + 16, readable.count)]) }) {
            let x = try ImageBatch.load(chunk, resizeShorterSide: p.resizeTo, crop: r, mean: p.mean, std: p.std)
            let logits = net.logits(x)
            for (i, f) in chunk.enumerated() {
                let p = Probabilities.softmax(Probabilities.row(logits, i))
                let best = Probabilities.topK(p, top)
                if json {
                    print(try JSONLines.string(Line(file: f, top: best.map { .init(classIndex: $0, label: imageNetClassNames[$0], p: p[$0]) })))
                } else {
                    print(f)
                    for c in best { print(String(format: "  %5.1f %%  %4d  %@", 100 * p[c], c, imageNetClassNames[c])) }
                }
            }
        }
    }
}
