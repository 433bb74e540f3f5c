/// Scaled dot-product attention, softmax(q·kᵀ/√d_h)·v, for every (image, head) of packed projections: each
/// token's row holds q | k | v, `dim` floats each, heads contiguous inside each (timm's `qkv` and
/// torchvision's `in_proj_weight` both store it so). Kept here rather than in Layers so that the softmax
/// between the two GEMMs runs as this module's vector code; one (image, head) per task, OpenBLAS
/// single-threaded inside (`BLASThreads.perCore`), so each head's result is the same at any core count.
public enum AttentionKernel {
    public struct Shape: Sendable {
        public let batch, heads, tokens, headDim: Int
        public init(batch: Int, heads: Int, tokens: Int, headDim: Int) {
            self.batch = batch; self.heads = heads; self.tokens = tokens; self.headDim = headDim
        }
        var dim: Int { heads * headDim }
        /// Floats per token row of the packed projections.
        var packedWidth: Int { 3 * dim }
        var scale: Float { 1 / Float(headDim).squareRoot() }
    }

    /// packed [B, T, 3D] → probabilities [B, H, T, T] (kept for backward) and mixed [B, T, D].
    public static func forward(_ s: Shape, packed: UnsafePointer<Float>, probabilities: UnsafeMutablePointer<Float>,
                               mixed: UnsafeMutablePointer<Float>) {
        let t = s.tokens, dh = s.headDim, dim = s.dim, ld = s.packedWidth, scale = s.scale
        BLASThreads.perCore(s.batch * s.heads) { range in
            for item in range {
                let n = item / s.heads, h = item % s.heads
                let q = packed + n * t * ld + h * dh
                let p = probabilities + item * t * t
                sgemm(transB: true, m: t, n: t, k: dh, alpha: scale, a: q, lda: ld, b: q + dim, ldb: ld, c: p, ldc: t)
                for r in 0..<t { SoftmaxKernel.row(p + r * t, p + r * t, width: t) }
                sgemm(m: t, n: dh, k: t, a: p, lda: t, b: q + 2 * dim, ldb: ld, c: mixed + n * t * dim + h * dh, ldc: dim)
            }
        }
    }

    /// dPacked [B, T, 3D] (dq | dk | dv) from the forward's packed projections and probabilities and dMixed [B, T, D].
    public static func backward(_ s: Shape, packed: UnsafePointer<Float>, probabilities: UnsafePointer<Float>,
                                dMixed: UnsafePointer<Float>, dPacked: UnsafeMutablePointer<Float>) {
        let t = s.tokens, dh = s.headDim, dim = s.dim, ld = s.packedWidth, scale = s.scale
        BLASThreads.perCore(s.batch * s.heads) { range in
            // Each task owns its dP scratch (tasks run at the same time), from the pool, as a training step allocates nothing new.
            Workspace.shared.with(t * t) { dScores in
                for item in range {
                    let n = item / s.heads, h = item % s.heads
                    let q = packed + n * t * ld + h * dh, dq = dPacked + n * t * ld + h * dh
                    let p = probabilities + item * t * t
                    let dOut = dMixed + n * t * dim + h * dh
                    // dV = Pᵀ·dO, dP = dO·Vᵀ
                    sgemm(transA: true, m: t, n: dh, k: t, a: p, lda: t, b: dOut, ldb: dim, c: dq + 2 * dim, ldc: ld)
                    sgemm(transB: true, m: t, n: t, k: dh, a: dOut, lda: dim, b: q + 2 * dim, ldb: ld, c: dScores, ldc: t)
                    for r in 0..<t { SoftmaxKernel.rowBackward(p + r * t, dScores + r * t, dScores + r * t, width: t) }
                    // dQ = scale·dS·K, dK = scale·dSᵀ·Q
                    sgemm(m: t, n: dh, k: t, alpha: scale, a: dScores, lda: t, b: q + dim, ldb: ld, c: dq, ldc: ld)
                    sgemm(transA: true, m: t, n: dh, k: t, alpha: scale, a: dScores, lda: t, b: q, ldb: ld, c: dq + dim, ldc: ld)
                }
            }
        }
    }
}
