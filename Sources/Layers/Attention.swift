import Foundation
import Kernels

/// Multi-head self-attention over [B, T, D] tokens: qkv = x·W_qkvᵀ (packed q|k|v, heads contiguous inside
/// each, as both timm's `qkv` and torchvision's `in_proj_weight` store it), softmax(q·kᵀ/√d_h)·v per head,
/// then an output projection.
public final class MultiHeadSelfAttention: Layer {
    public let dim, heads: Int
    public let qkv: Linear
    public let proj: Linear
    /// How the parameters are named: timm's `qkv.weight`/`proj.weight` or torchvision's (nn.MultiheadAttention)
    /// `in_proj_weight`/`out_proj.weight`.
    public enum Naming: Sendable { case timm, torchvision }
    public var naming: Naming = .timm
    public var sublayers: [Layer] { [qkv, proj] }
    private var packed: Tensor?      // [B, T, 3D]
    private var probabilities: Tensor? // [B, H, T, T]

    public init(dim: Int, heads: Int, generator: inout SeededGenerator) {
        precondition(dim % heads == 0, "dim \(dim) is not divisible by \(heads) heads")
        self.dim = dim; self.heads = heads
        qkv = Linear(dim, 3 * dim, generator: &generator)
        proj = Linear(dim, dim, generator: &generator)
    }

    public var namedParameters: [(String, Parameter)] {
        switch naming {
        case .timm:
            return prefixed("qkv", qkv.namedParameters) + prefixed("proj", proj.namedParameters)
        case .torchvision:
            return [("in_proj_weight", qkv.weight), ("in_proj_bias", qkv.bias!)] + prefixed("out_proj", proj.namedParameters)
        }
    }

    var headDim: Int { dim / heads }

    // x[B, T, D] → y[B, T, D]
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == dim, "attention(\(dim)) got input \(x.shape)")
        let b = x.shape[0], t = x.shape[1]
        let q = qkv.forward(x, mode: mode)
        let p = Tensor(uninitialized: [b, heads, t, t])
        let mixed = Tensor(uninitialized: [b, t, dim])
        AttentionKernel.forward(shape(b, t), packed: q.data, probabilities: p.data, mixed: mixed.data)
        if mode.keepForBackward { packed = q; probabilities = p } else { packed = nil; probabilities = nil }
        return proj.forward(mixed, mode: mode)
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        let q = cached(packed, "MultiHeadSelfAttention"), p = probabilities!
        let dMixed = proj.backward(dy, needInputGradient: true)!.contiguous()
        let dq = Tensor(uninitialized: q.shape)
        AttentionKernel.backward(shape(q.shape[0], q.shape[1]), packed: q.data, probabilities: p.data, dMixed: dMixed.data, dPacked: dq.data)
        packed = nil; probabilities = nil   // before qkv's backward allocates its gradients
        return qkv.backward(dq, needInputGradient: needInputGradient)
    }

    func shape(_ batch: Int, _ tokens: Int) -> AttentionKernel.Shape {
        .init(batch: batch, heads: heads, tokens: tokens, headDim: headDim)
    }
}
