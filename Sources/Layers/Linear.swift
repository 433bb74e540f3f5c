import Kernels

/// y = x · Wᵀ + b over the last dimension; weight is [out, in] as in PyTorch.
public final class Linear: Layer {
    public let inFeatures, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// What backward needs of the input: the input itself, or — when `inputActivation` is set — the
    /// pre-activation tensor the input was computed from, so the activation's output is not kept twice.
    private var input: Tensor?
    private var inputActivation: Activation?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout SeededGenerator) {
        self.inFeatures = inFeatures; self.outFeatures = outFeatures
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(.randomUniform([outFeatures, inFeatures], -bound, bound, generator: &generator))
        self.bias = bias ? Parameter(.randomUniform([outFeatures], -bound, bound, generator: &generator)) : nil
    }

    public var namedParameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    // x[..., in] → y[..., out]
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        precondition(x.shape.last == inFeatures, "Linear(\(inFeatures)→\(outFeatures)) got input \(x.shape)")
        let x = x.contiguous()
        let rows = x.count / inFeatures
        let y = Tensor(uninitialized: Array(x.shape.dropLast()) + [outFeatures])
        if let bias {
            for r in 0..<rows { (y.data + r * outFeatures).update(from: bias.value.data, count: outFeatures) }
        }
        sgemm(transB: true, m: rows, n: outFeatures, k: inFeatures, a: x.data, lda: inFeatures,
              b: weight.value.data, ldb: inFeatures, beta: bias == nil ? 0 : 1, c: y.data, ldc: outFeatures)
        input = mode.keepForBackward ? x : nil
        inputActivation = nil
        return y
    }

    /// Forward on `x == activation(preActivation)` that keeps `preActivation` instead of `x`: the layer
    /// before (the activation) keeps it anyway, and backward recomputes `x` for the weight gradient. In a
    /// ViT MLP that drops one [tokens, 4·dim] tensor per block (ViT-B16 train, batch 32: 78 MB per block).
    func forward(_ x: Tensor, mode: ForwardMode, recomputableFrom preActivation: Tensor, activation: Activation) -> Tensor {
        let y = forward(x, mode: mode)
        if mode.keepForBackward { input = preActivation.contiguous(); inputActivation = activation }
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        defer { input = nil; inputActivation = nil }
        let kept = cached(input, "Linear"), dy = dy.contiguous()
        let rows = kept.count / inFeatures
        if weight.trainable {
            var x = kept
            if let inputActivation {   // the same function on the same values: bit-identical to forward's input
                x = Tensor(uninitialized: kept.shape)
                inputActivation.forward(kept.data, x.data, count: kept.count)
            }
            sgemm(transA: true, m: outFeatures, n: inFeatures, k: rows, a: dy.data, lda: outFeatures,
                  b: x.data, ldb: inFeatures, beta: 1, c: weight.grad.data, ldc: inFeatures)
        }
        if let bias, bias.trainable {
            let g = bias.grad.data
            for r in 0..<rows { let row = dy.data + r * outFeatures; for o in 0..<outFeatures { g[o] += row[o] } }
        }
        guard needInputGradient else { return nil }
        let dx = Tensor(uninitialized: kept.shape)
        sgemm(m: rows, n: inFeatures, k: outFeatures, a: dy.data, lda: outFeatures,
              b: weight.value.data, ldb: inFeatures, c: dx.data, ldc: inFeatures)
        return dx
    }
}
