import Kernels
import Layers

/// One stage of MBConv blocks, as in the EfficientNet paper's table: expansion, kernel, first stride,
/// input and output channels, repeats.
struct MBConvStage { let expand, kernel, stride, input, output, repeats: Int }

/// EfficientNet-B0's and -Lite0's stages (Lite0 keeps B0's table and drops squeeze-excitation).
let efficientNetB0Stages = [
    MBConvStage(expand: 1, kernel: 3, stride: 1, input: 32, output: 16, repeats: 1),
    MBConvStage(expand: 6, kernel: 3, stride: 2, input: 16, output: 24, repeats: 2),
    MBConvStage(expand: 6, kernel: 5, stride: 2, input: 24, output: 40, repeats: 2),
    MBConvStage(expand: 6, kernel: 3, stride: 2, input: 40, output: 80, repeats: 3),
    MBConvStage(expand: 6, kernel: 5, stride: 1, input: 80, output: 112, repeats: 3),
    MBConvStage(expand: 6, kernel: 5, stride: 2, input: 112, output: 192, repeats: 4),
    MBConvStage(expand: 6, kernel: 3, stride: 1, input: 192, output: 320, repeats: 1),
]

/// The two naming and numerical conventions tlab supports for MBConv networks.
enum MBConvFlavour {
    /// lukemelas / efficientnet-lite-pytorch: TF-SAME padding, ReLU6, BN eps 1e-3, no SE, `_blocks.N._expand_conv`.
    case lite
    /// torchvision efficientnet_b0: symmetric padding, SiLU, BN eps 1e-5, SE, `features.S.I.block.J.K`.
    case torchvision

    var activation: Activation { self == .lite ? .relu6 : .silu }
    var bnEps: Float { self == .lite ? 1e-3 : 1e-5 }
    var bnMomentum: Float { self == .lite ? 0.01 : 0.1 }
    func padding(_ k: Int) -> Padding { self == .lite ? .same : .explicit((k - 1) / 2, (k - 1) / 2) }
}

/// One inverted-residual block: [expand 1×1] → depthwise k×k → [SE] → project 1×1, with a skip (and
/// stochastic depth) when shape allows.
func mbconvBlock(_ flavour: MBConvFlavour, input: Int, output: Int, expand: Int, kernel: Int, stride: Int,
                 dropPath: Float, seed: UInt64, generator g: inout SeededGenerator) -> Layer {
    let hidden = input * expand
    let act = flavour.activation
    func bn(_ c: Int) -> BatchNorm { BatchNorm(c, eps: flavour.bnEps, momentum: flavour.bnMomentum) }
    var children: [(String, Layer)] = []
    switch flavour {
    case .lite:
        if expand != 1 {
            children += [("_expand_conv", Conv2d(input, hidden, kernel: 1, padding: .same, bias: false, generator: &g)),
                         ("_bn0", bn(hidden)), ("act0", ActivationLayer(act))]
        }
        children += [("_depthwise_conv", Conv2d(hidden, hidden, kernel: kernel, stride: stride, padding: .same, groups: hidden, bias: false, generator: &g)),
                     ("_bn1", bn(hidden)), ("act1", ActivationLayer(act)),
                     ("_project_conv", Conv2d(hidden, output, kernel: 1, padding: .same, bias: false, generator: &g)),
                     ("_bn2", bn(output))]
    case .torchvision:
        var j = 0
        if expand != 1 {
            children += [("block.0.0", Conv2d(input, hidden, kernel: 1, bias: false, generator: &g)), ("block.0.1", bn(hidden)), ("act0", ActivationLayer(act))]
            j = 1
        }
        children += [("block.\(j).0", Conv2d(hidden, hidden, kernel: kernel, stride: stride, padding: flavour.padding(kernel), groups: hidden, bias: false, generator: &g)),
                     ("block.\(j).1", bn(hidden)), ("act1", ActivationLayer(act)),
                     ("block.\(j + 1)", SqueezeExcitation(channels: hidden, squeezed: max(1, input / 4), activation: .silu, names: ("fc1", "fc2"), generator: &g)),
                     ("block.\(j + 2).0", Conv2d(hidden, output, kernel: 1, bias: false, generator: &g)), ("block.\(j + 2).1", bn(output))]
    }
    let body = Sequential(children)
    guard stride == 1 && input == output else { return body }
    if dropPath > 0 { body.append("drop_path", DropPath(dropPath, seed: seed)) }
    return Residual(body)
}

extension Backbones {
    static func efficientNet(_ flavour: MBConvFlavour, spec: BackboneSpec) -> Backbone {
        var g = SeededGenerator(seed: 0)
        let act = flavour.activation
        let stemName = flavour == .lite ? ("_conv_stem", "_bn0") : ("features.0.0", "features.0.1")
        var children: [(String, Layer)] = [
            (stemName.0, Conv2d(3, 32, kernel: 3, stride: 2, padding: flavour.padding(3), bias: false, generator: &g)),
            (stemName.1, BatchNorm(32, eps: flavour.bnEps, momentum: flavour.bnMomentum)),
            ("stem_act", ActivationLayer(act)),
        ]
        let total = efficientNetB0Stages.reduce(0) { $0 + $1.repeats }
        var index = 0
        for (s, stage) in efficientNetB0Stages.enumerated() {
            for r in 0..<stage.repeats {
                let name = flavour == .lite ? "_blocks.\(index)" : "features.\(s + 1).\(r)"
                let block = mbconvBlock(flavour, input: r == 0 ? stage.input : stage.output, output: stage.output,
                                        expand: stage.expand, kernel: stage.kernel, stride: r == 0 ? stage.stride : 1,
                                        dropPath: 0.2 * Float(index) / Float(total), seed: UInt64(index), generator: &g)
                children.append((name, block))
                index += 1
            }
        }
        let head = flavour == .lite ? ("_conv_head", "_bn1") : ("features.8.0", "features.8.1")
        children += [
            (head.0, Conv2d(320, 1280, kernel: 1, padding: flavour == .lite ? .same : .explicit(0, 0), bias: false, generator: &g)),
            (head.1, BatchNorm(1280, eps: flavour.bnEps, momentum: flavour.bnMomentum)),
            ("head_act", ActivationLayer(act)),
            ("pool", GlobalAvgPool()),
        ]
        // Groups as in the fine-tune-top recipe: stem + blocks 0–4 / blocks 5–10 / blocks 11–15 + head conv.
        let firstBlock = 3
        return Backbone(spec: spec, features: Sequential(children), classifier: Linear(1280, 1000, generator: &g),
                        classifierName: flavour == .lite ? "_fc" : "classifier.1",
                        groups: [("early", 0..<firstBlock + 5), ("intermediate", firstBlock + 5..<firstBlock + 11),
                                 ("final", firstBlock + 11..<children.count)])
    }
}
