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
        let b = x.shape[0], t = x.shape[1], dh = headDim, ld = 3 * dim
        let q = qkv.forward(x, mode: mode)
        let p = Tensor(uninitialized: [b, heads, t, t])
        let mixed = Tensor(uninitialized: [b, t, dim])
        let scale = 1 / Float(dh).squareRoot()
        let heads = heads, dim = dim
        BLASThreads.perCore(b * heads) { range in
            for item in range {
                let bi = item / heads, h = item % heads
                let base = q.data + bi * t * ld + h * dh
                let probs = p.data + (bi * heads + h) * t * t
                sgemm(transB: true, m: t, n: t, k: dh, alpha: scale, a: base, lda: ld, b: base + dim, ldb: ld, c: probs, ldc: t)
                for r in 0..<t { SoftmaxKernel.row(probs + r * t, probs + r * t, width: t) }
                sgemm(m: t, n: dh, k: t, a: probs, lda: t, b: base + 2 * dim, ldb: ld,
                      c: mixed.data + bi * t * dim + h * dh, ldc: dim)
            }
        }
        if mode.keepForBackward { packed = q; probabilities = p } else { packed = nil; probabilities = nil }
        return proj.forward(mixed, mode: mode)
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        let q = cached(packed, "MultiHeadSelfAttention"), p = probabilities!
        let b = q.shape[0], t = q.shape[1], dh = headDim, ld = 3 * dim
        let dMixed = proj.backward(dy, needInputGradient: true)!.contiguous()
        let dq = Tensor(uninitialized: q.shape)
        let scale = 1 / Float(dh).squareRoot()
        let heads = heads, dim = dim
        do {
            BLASThreads.perCore(b * heads) { range in
                // Each chunk owns its dP scratch: chunks run at the same time.
                let dProbs = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
                defer { dProbs.deallocate() }
                for item in range {
                    let bi = item / heads, h = item % heads
                    let base = q.data + bi * t * ld + h * dh, dBase = dq.data + bi * t * ld + h * dh
                    let probs = p.data + (bi * heads + h) * t * t
                    let dOut = dMixed.data + bi * t * dim + h * dh
                    // dV = Pᵀ·dO, dP = dO·Vᵀ
                    sgemm(transA: true, m: t, n: dh, k: t, a: probs, lda: t, b: dOut, ldb: dim, c: dBase + 2 * dim, ldc: ld)
                    sgemm(transB: true, m: t, n: t, k: dh, a: dOut, lda: dim, b: base + 2 * dim, ldb: ld, c: dProbs, ldc: t)
                    for r in 0..<t { SoftmaxKernel.rowBackward(probs + r * t, dProbs + r * t, dProbs + r * t, width: t) }
                    // dQ = scale·dS·K, dK = scale·dSᵀ·Q
                    sgemm(m: t, n: dh, k: t, alpha: scale, a: dProbs, lda: t, b: base + dim, ldb: ld, c: dBase, ldc: ld)
                    sgemm(transA: true, m: t, n: dh, k: t, alpha: scale, a: dProbs, lda: t, b: base, ldb: ld, c: dBase + dim, ldc: ld)
                }
            }
        }
        return qkv.backward(dq, needInputGradient: needInputGradient)
    }
}
