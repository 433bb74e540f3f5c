import Kernels
import Layers

extension Backbones {
    enum ViTNaming { case torchvision, timm }

    /// A ViT with 16×16 patches, pre-norm blocks (x + attn(ln(x)), x + mlp(ln(x))), LayerNorm eps 1e-6,
    /// exact GELU and class-token pooling, named as torchvision's vit_b_16 or timm's vit_*_patch16_224.
    static func vit(spec: BackboneSpec, dim: Int, depth: Int, heads: Int, naming: ViTNaming) -> Backbone {
        var g = SeededGenerator(seed: 0)
        let tokens = (spec.preprocessing.resolution / 16) * (spec.preprocessing.resolution / 16)
        let tv = naming == .torchvision
        var children: [(String, Layer)] = [
            (tv ? "conv_proj" : "patch_embed.proj", Conv2d(3, dim, kernel: 16, stride: 16, generator: &g)),
            ("tokens", PatchTokens()),
            ("", ClassTokenAndPosition(tokens: tokens, dim: dim, names: tv ? ("class_token", "encoder.pos_embedding") : ("cls_token", "pos_embed"), generator: &g)),
        ]
        for i in 0..<depth {
            let attention = MultiHeadSelfAttention(dim: dim, heads: heads, generator: &g)
            attention.naming = tv ? .torchvision : .timm
            let attnBranch = Sequential([(tv ? "ln_1" : "norm1", LayerNorm(dim, eps: 1e-6)), (tv ? "self_attention" : "attn", attention)])
            let mlpBranch = Sequential([(tv ? "ln_2" : "norm2", LayerNorm(dim, eps: 1e-6)),
                                        (tv ? "mlp.0" : "mlp.fc1", Linear(dim, 4 * dim, generator: &g)), ("gelu", ActivationLayer(.gelu)),
                                        (tv ? "mlp.3" : "mlp.fc2", Linear(4 * dim, dim, generator: &g))])
            children.append((tv ? "encoder.layers.encoder_layer_\(i)" : "blocks.\(i)", Sequential([("", Residual(attnBranch)), ("", Residual(mlpBranch))])))
        }
        children += [(tv ? "encoder.ln" : "norm", LayerNorm(dim, eps: 1e-6)), ("cls", SelectToken(0))]
        let third = depth / 3
        return Backbone(spec: spec, features: Sequential(children), classifier: Linear(dim, 1000, generator: &g),
                        classifierName: tv ? "heads.head" : "head",
                        groups: [("early", 0..<3 + third), ("intermediate", 3 + third..<3 + 2 * third), ("final", 3 + 2 * third..<children.count)])
    }
}
