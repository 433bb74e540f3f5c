import ArgumentParser
import Foundation
import Backbones
import Engine
import Kernels
import Layers

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure kernel speed on this machine.",
        discussion: """
            gemm: one n×n×n sgemm through OpenBLAS. conv: the main convolution shapes of ResNet-18 and \
            EfficientNet-Lite0 at batch 32, forward and backward. forward: a backbone's inference pass \
            (frozen feature extraction). train: forward, backward and an AdamW step with every layer trainable (or all but the --freeze groups).
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case gemm, conv, forward, train }

    @Argument(help: "What to measure: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: Kind

    @Option(parsing: .unconditional, help: "Matrix size for gemm.") var n = 2048
    @Option(parsing: .unconditional, help: "Batch size for conv, forward and train.") var batch = 32
    @Option(help: "Backbone for forward and train.") var backbone = "efficientnet_lite0"
    @Option(parsing: .unconditional, help: "Input resolution for forward and train (default: the backbone's own).") var res: Int?
    @Option(parsing: .unconditional, help: "Timed repetitions (the best one counts).") var reps = 5
    @Flag(help: "One JSON object per line.") var json = false
    @Flag(help: "forward: also print where the time goes, by layer kind (each layer alone) and by backbone child (folded and fused within each child).") var profile = false
    @Option(help: "conv: only the shapes whose net or layer name contains this text.") var only: String?
    @Option(help: ArgumentHelp("train: layer groups to freeze, comma-separated, as a fine-tune run freezes them (no gradients, batch norm on running statistics).",
                               valueName: "groups")) var freeze: String = ""

    var frozenGroups: [String] { freeze.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        guard n > 0, batch > 0, reps > 0 else { throw ValidationError("--n, --batch and --reps must be positive (got \(n), \(batch), \(reps))") }
        guard n <= 16_384 else { throw ValidationError("--n must be at most 16384 (got \(n)); three \(n)² matrices would not fit in memory") }
        guard batch <= 4096 else { throw ValidationError("--batch must be at most 4096 (got \(batch))") }
        if let res, !(32...1024).contains(res) { throw ValidationError("--res must be in 32…1024 (got \(res))") }
        if kind == .forward || kind == .train, Backbones.spec(backbone) == nil {
            throw ValidationError("unknown backbone '\(backbone)'; known: \(Backbones.names.joined(separator: ", "))")
        }
        if let only {
            guard kind == .conv else { throw ValidationError("--only applies to conv only") }
            guard Self.convCases.contains(where: { $0.matches(only) }) else {
                throw ValidationError("--only '\(only)' matches no conv shape; the shapes: \(Self.convCases.map { "\($0.net) \($0.name)" }.joined(separator: ", "))")
            }
        }
        if !freeze.isEmpty {
            guard kind == .train else { throw ValidationError("--freeze applies to train only") }
            let known = Backbones.spec(backbone)!.groupNames
            for g in frozenGroups where !known.contains(g) {
                throw ValidationError("--freeze: unknown group '\(g)' of \(backbone); its groups: \(known.joined(separator: ", "))")
            }
        }
    }

    func run() throws {
        switch kind {
        case .gemm: try benchGEMM()
        case .conv: try benchConv()
        case .forward, .train: try benchBackbone(train: kind == .train)
        }
    }

    /// What `bench gemm --json` prints.
    struct GEMMLine: Encodable {
        var bench = "gemm", n: Int, gflops: Double
        var blasThreadTimeout = BLASLaunch.threadTimeout   // how soon OpenBLAS's workers sleep (BLASLaunch)
        var blasCore = BLASLaunch.core                     // the kernel set OpenBLAS runs
        enum CodingKeys: String, CodingKey { case bench, n, gflops, blasThreadTimeout = "openblas_thread_timeout", blasCore = "openblas_core" }
    }
    /// What `bench forward|train --json` prints.
    struct BackboneLine: Encodable {
        var backbone, mode: String
        var res, batch: Int
        var frozen: [String]
        var imagesPerSecond, peakRSSMegabytes: Double
        /// Fresh (not cached) tensor memory the last timed pass allocated: 0 in a steady state.
        var freshMegabytesPerPass: Double
        enum CodingKeys: String, CodingKey {
            case backbone, mode, res, batch, frozen, imagesPerSecond = "img_per_s", peakRSSMegabytes = "peak_rss_mb"
            case freshMegabytesPerPass = "fresh_mb_per_pass"
        }
    }
    /// What `bench conv --json` prints per layer shape (`shape`: in, out, kernel, stride, side, groups).
    struct ConvLine: Encodable {
        var bench = "conv", net, layer: String
        var batch: Int
        var shape: [Int]
        var forwardGFLOPs, backwardGFLOPs, forwardMilliseconds, backwardMilliseconds: Double
        var inferenceGFLOPs, inferenceMilliseconds: Double
        enum CodingKeys: String, CodingKey {
            case bench, net, layer, batch, shape
            case forwardGFLOPs = "forward_gflops", backwardGFLOPs = "backward_gflops", forwardMilliseconds = "forward_ms", backwardMilliseconds = "backward_ms"
            case inferenceGFLOPs = "inference_gflops", inferenceMilliseconds = "inference_ms"
        }
    }

    func benchGEMM() throws {
        var g = SeededGenerator(seed: 1)
        let a = Tensor.randomUniform([n, n], -1, 1, generator: &g), b = Tensor.randomUniform([n, n], -1, 1, generator: &g)
        let c = Tensor(zeros: [n, n])
        let t = bestTime(reps: reps) { sgemm(m: n, n: n, k: n, a: a.data, lda: n, b: b.data, ldb: n, c: c.data, ldc: n) }
        let gflops = 2 * Double(n) * Double(n) * Double(n) / t / 1e9
        if json { print(try JSONLines.string(GEMMLine(n: n, gflops: gflops))) }
        else { print(String(format: "sgemm %d³: %.1f GFLOP/s (%.1f ms)", n, gflops, t * 1000) + ", OpenBLAS \(BLASLaunch.core) kernels") }
    }

    func benchBackbone(train: Bool) throws {
        let net = Backbones.make(backbone)!
        let r = res ?? net.spec.preprocessing.resolution
        var gen = SeededGenerator(seed: 3)
        let x = Tensor.randomUniform([batch, 3, r, r], -1, 1, generator: &gen)
        let t: Double
        var passStart = 0
        var lastPassFreshMegabytes: Double { Double(BufferPool.shared.freshBytes - passStart) / 1048576 }
        if train {
            for g in frozenGroups { net.setPolicy(group: g, trainable: false, frozenBatchNorm: true) }
            let params = (net.features.parameters + net.classifier.parameters).filter(\.trainable)
            let opt = AdamW(groups: [ParameterGroup(name: "all", parameters: params, learningRate: 1e-4)])
            let targets = (0..<batch).map { $0 % 1000 }
            t = bestTime(reps: reps) {
                passStart = BufferPool.shared.freshBytes
                opt.zeroGrad()
                let logits = net.classifier.forward(net.features.forward(x, mode: .training), mode: .training)
                let (_, g) = SoftmaxCrossEntropy()(logits: logits, targets: targets)
                _ = net.features.backward(net.classifier.backward(g, needInputGradient: true)!, needInputGradient: false)
                opt.step()
            }
        } else {
            t = bestTime(reps: reps) { passStart = BufferPool.shared.freshBytes; _ = net.features.forward(x, mode: .inference) }
        }
        let fresh = lastPassFreshMegabytes
        if profile && !train { printProfile(net, x); printChildProfile(net, x) }
        let ips = Double(batch) / t
        if json {
            print(try JSONLines.string(BackboneLine(backbone: backbone, mode: train ? "train" : "forward", res: r, batch: batch, frozen: frozenGroups,
                                                    imagesPerSecond: ips, peakRSSMegabytes: peakRSSMegabytes(), freshMegabytesPerPass: fresh)))
        } else {
            print(String(format: "%@ %@ @%d batch %d: %.1f img/s (%.0f ms/batch), peak RSS %.0f MB, fresh memory in the last pass %.0f MB",
                         backbone, train ? "train" : "forward", r, batch, ips, t * 1000, peakRSSMegabytes(), fresh))
        }
    }

    /// Times every leaf layer of one inference pass and sums by kind.
    func printProfile(_ net: Backbone, _ x: Tensor) {
        var totals: [String: Double] = [:]
        func kind(_ l: Layer, _ input: Tensor) -> String {
            switch l {
            case let c as Conv2d:
                let g = c.geometry(for: input.shape)
                return g.isDepthwise ? "conv depthwise \(g.kernelH)x\(g.kernelW)/\(g.strideH)" : g.kernelH == 1 ? "conv 1x1" : "conv \(g.kernelH)x\(g.kernelW)"
            case is BatchNorm: return "batchnorm"
            case let a as ActivationLayer: return "activation \(a.function)"
            default: return String(describing: type(of: l))
            }
        }
        func walk(_ l: Layer, _ x: Tensor) -> Tensor {
            switch l {
            case let s as Sequential: return s.layers.reduce(x) { walk($1, $0) }
            case let r as Residual:
                let y = walk(r.body, x)
                let t0 = now(); let out = Residual(Identity()).forward(y, mode: .inference); totals["residual add", default: 0] += now() - t0
                return out
            default:
                let t0 = now(); let y = l.forward(x, mode: .inference); totals[kind(l, x), default: 0] += now() - t0
                return y
            }
        }
        _ = walk(net.features, x)
        let all = totals.values.reduce(0, +)
        for (k, v) in totals.sorted(by: { $0.value > $1.value }) {
            print(String(format: "  %-28@ %8.1f ms  %5.1f %%", k as NSString, v * 1000, 100 * v / all))
        }
    }

    /// Times each child of the backbone's features in an inference pass, best of `reps`, with the running
    /// total: about what a frozen prefix ending at that child costs. Within a child the layers fold and fuse as
    /// in a real pass; children that fold together in one (a stem's conv, batch norm and activation) are timed apart.
    func printChildProfile(_ net: Backbone, _ x: Tensor) {
        var h = x, total = 0.0
        let width = net.features.children.map(\.0.count).max() ?? 0
        for (name, child) in net.features.children {
            let input = h
            var y = input
            let t = bestTime(reps: reps) { y = child.forward(input, mode: .inference) }
            total += t
            let shape = y.shape.map(String.init).joined(separator: "x")
            print("  child \(name.padding(toLength: width, withPad: " ", startingAt: 0)) \(shape.padding(toLength: 16, withPad: " ", startingAt: 0))"
                  + String(format: " %8.2f ms  total %8.2f ms", t * 1000, total * 1000))
            h = y
        }
    }

    struct ConvCase {
        let net, name: String; let cin, cout, k, s, hw: Int; let groups: Int; let padding: Padding
        /// What `--only` selects: the net or layer name contains the text.
        func matches(_ text: String) -> Bool { name.contains(text) || net.contains(text) }
    }

    static let convCases: [ConvCase] = [
        .init(net: "resnet18", name: "conv1 7x7/2", cin: 3, cout: 64, k: 7, s: 2, hw: 224, groups: 1, padding: .explicit(3, 3)),
        .init(net: "resnet18", name: "layer1 3x3", cin: 64, cout: 64, k: 3, s: 1, hw: 56, groups: 1, padding: .explicit(1, 1)),
        .init(net: "resnet18", name: "layer2 3x3", cin: 128, cout: 128, k: 3, s: 1, hw: 28, groups: 1, padding: .explicit(1, 1)),
        .init(net: "resnet18", name: "layer3 3x3", cin: 256, cout: 256, k: 3, s: 1, hw: 14, groups: 1, padding: .explicit(1, 1)),
        .init(net: "resnet18", name: "layer4 3x3", cin: 512, cout: 512, k: 3, s: 1, hw: 7, groups: 1, padding: .explicit(1, 1)),
        .init(net: "resnet18", name: "layer2 3x3/2", cin: 64, cout: 128, k: 3, s: 2, hw: 56, groups: 1, padding: .explicit(1, 1)),
        .init(net: "efficientnet_lite0", name: "stem 3x3/2", cin: 3, cout: 32, k: 3, s: 2, hw: 224, groups: 1, padding: .same),
        .init(net: "efficientnet_lite0", name: "dw 3x3 @112", cin: 32, cout: 32, k: 3, s: 1, hw: 112, groups: 32, padding: .same),
        .init(net: "efficientnet_lite0", name: "expand 1x1 @112", cin: 16, cout: 96, k: 1, s: 1, hw: 112, groups: 1, padding: .same),
        .init(net: "efficientnet_lite0", name: "dw 3x3/2 @112", cin: 96, cout: 96, k: 3, s: 2, hw: 112, groups: 96, padding: .same),
        .init(net: "efficientnet_lite0", name: "project 1x1 @56", cin: 144, cout: 24, k: 1, s: 1, hw: 56, groups: 1, padding: .same),
        .init(net: "efficientnet_lite0", name: "dw 5x5 @28", cin: 240, cout: 240, k: 5, s: 1, hw: 28, groups: 240, padding: .same),
        .init(net: "efficientnet_lite0", name: "expand 1x1 @28", cin: 40, cout: 240, k: 1, s: 1, hw: 28, groups: 1, padding: .same),
        .init(net: "efficientnet_lite0", name: "expand 1x1 @14", cin: 80, cout: 480, k: 1, s: 1, hw: 14, groups: 1, padding: .same),
        .init(net: "efficientnet_lite0", name: "project 1x1 @14", cin: 480, cout: 80, k: 1, s: 1, hw: 14, groups: 1, padding: .same),
        .init(net: "efficientnet_lite0", name: "expand 1x1 @7", cin: 192, cout: 1152, k: 1, s: 1, hw: 7, groups: 1, padding: .same),
        .init(net: "efficientnet_lite0", name: "project 1x1 @7", cin: 1152, cout: 192, k: 1, s: 1, hw: 7, groups: 1, padding: .same),
        .init(net: "efficientnet_lite0", name: "dw 3x3 @14", cin: 480, cout: 480, k: 3, s: 1, hw: 14, groups: 480, padding: .same),
        .init(net: "efficientnet_lite0", name: "dw 5x5 @14", cin: 672, cout: 672, k: 5, s: 1, hw: 14, groups: 672, padding: .same),
        .init(net: "efficientnet_lite0", name: "dw 5x5/2 @14", cin: 672, cout: 672, k: 5, s: 2, hw: 14, groups: 672, padding: .same),
        .init(net: "efficientnet_lite0", name: "dw 5x5 @7", cin: 1152, cout: 1152, k: 5, s: 1, hw: 7, groups: 1152, padding: .same),
        .init(net: "efficientnet_lite0", name: "dw 3x3 @7", cin: 1152, cout: 1152, k: 3, s: 1, hw: 7, groups: 1152, padding: .same),
        .init(net: "efficientnet_lite0", name: "head 1x1 @7", cin: 320, cout: 1280, k: 1, s: 1, hw: 7, groups: 1, padding: .same),
    ]

    func benchConv() throws {
        var gen = SeededGenerator(seed: 2)
        for c in Self.convCases where only.map(c.matches) ?? true {
            let g = ConvGeometry(batch: batch, inChannels: c.cin, height: c.hw, width: c.hw, outChannels: c.cout,
                                 kernel: (c.k, c.k), stride: (c.s, c.s), padding: c.padding, groups: c.groups)
            let x = Tensor.randomUniform(g.inShape, -1, 1, generator: &gen)
            let w = Tensor.randomUniform(g.weightShape, -0.1, 0.1, generator: &gen)
            let y = Tensor(uninitialized: g.outShape), dx = Tensor(uninitialized: g.inShape), dw = Tensor(zeros: g.weightShape)
            let tf = bestTime(reps: reps) { Conv2D.forward(g, x: x.data, weight: w.data, bias: nil, y: y.data) }
            let tb = bestTime(reps: reps) {
                Conv2D.backward(g, x: x.data, weight: w.data, dy: y.data, dx: dx.data, dWeight: dw.data, dBias: nil)
            }
            // Inference (after backward, which reads the plain forward's y as dy): batch norm folded into a bias,
            // ReLU6 applied as the output is written.
            let bias = Tensor.randomUniform([c.cout], -0.1, 0.1, generator: &gen)
            let ti = bestTime(reps: reps) { Conv2D.forward(g, x: x.data, weight: w.data, bias: bias.data, y: y.data, activation: .relu6) }
            let fwd = g.flops / tf / 1e9, bwd = 2 * g.flops / tb / 1e9, inf = g.flops / ti / 1e9
            if json {
                print(try JSONLines.string(ConvLine(net: c.net, layer: c.name, batch: batch, shape: [c.cin, c.cout, c.k, c.s, c.hw, c.groups],
                                                    forwardGFLOPs: fwd, backwardGFLOPs: bwd, forwardMilliseconds: tf * 1000,
                                                    backwardMilliseconds: tb * 1000, inferenceGFLOPs: inf, inferenceMilliseconds: ti * 1000)))
            } else {
                print(String(format: "%-20@ %-18@ fwd %7.1f GFLOP/s %8.2f ms   bwd %7.1f GFLOP/s %8.2f ms   +bias+relu6 %7.1f GFLOP/s %8.2f ms",
                             c.net as NSString, c.name as NSString, fwd, tf * 1000, bwd, tb * 1000, inf, ti * 1000))
            }
        }
    }
}
