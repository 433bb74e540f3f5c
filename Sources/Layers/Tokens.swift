import Kernels

/// [N, C, H, W] → [N, H·W, C]: a feature map as a sequence of patch tokens.
public final class PatchTokens: Layer {
    private var inShape: [Int]?
    public init() {}
    public var namedParameters: [(String, Parameter)] { [] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let s = x.shape; inShape = s
        return x.contiguous().reshaped([s[0], s[1], s[2] * s[3]]).permuted([0, 2, 1]).contiguous()
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        let s = cached(inShape, "PatchTokens")
        return dy.contiguous().permuted([0, 2, 1]).contiguous().reshaped(s)
    }
}

/// Prepends a learned class token and adds learned position embeddings: [N, T, D] → [N, T+1, D].
public final class ClassTokenAndPosition: Layer {
    public let classToken: Parameter    // [1, 1, D]
    public let position: Parameter      // [1, T+1, D]
    public let names: (token: String, position: String)

    public init(tokens: Int, dim: Int, names: (token: String, position: String), generator: inout SeededGenerator) {
        classToken = Parameter(Tensor(zeros: [1, 1, dim]))
        position = Parameter(Tensor.randomNormal([1, tokens + 1, dim], std: 0.02, generator: &generator))
        self.names = names
    }

    public var namedParameters: [(String, Parameter)] { [(names.token, classToken), (names.position, position)] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous(), n = x.shape[0], t = x.shape[1], d = x.shape[2]
        require(position.value.shape == [1, t + 1, d], "position embeddings \(position.value.shape) do not fit \(t) tokens of width \(d)")
        let y = Tensor(uninitialized: [n, t + 1, d])
        let pos = position.value.data, cls = classToken.value.data
        for b in 0..<n {
            let out = y.data + b * (t + 1) * d, src = x.data + b * t * d
            for q in 0..<d { out[q] = cls[q] + pos[q] }
            for q in 0..<t * d { out[d + q] = src[q] + pos[d + q] }
        }
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        let dy = dy.contiguous(), n = dy.shape[0], t1 = dy.shape[1], d = dy.shape[2]
        if position.trainable || classToken.trainable {
            for b in 0..<n {
                let g = dy.data + b * t1 * d
                if position.trainable { for q in 0..<t1 * d { position.grad.data[q] += g[q] } }
                if classToken.trainable { for q in 0..<d { classToken.grad.data[q] += g[q] } }
            }
        }
        guard needInputGradient else { return nil }
        let dx = Tensor(uninitialized: [n, t1 - 1, d])
        for b in 0..<n { (dx.data + b * (t1 - 1) * d).update(from: dy.data + b * t1 * d + d, count: (t1 - 1) * d) }
        return dx
    }
}

/// [N, T, D] → [N, D]: the token at `index` (the class token for ViT classification).
public final class SelectToken: Layer {
    public let index: Int
    private var inShape: [Int]?
    public init(_ index: Int = 0) { self.index = index }
    public var namedParameters: [(String, Parameter)] { [] }

    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        inShape = x.shape
        return x.slice(dim: 1, index..<index + 1).contiguous().reshaped([x.shape[0], x.shape[2]])
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        guard needInputGradient else { return nil }
        let s = cached(inShape, "SelectToken"), dy = dy.contiguous()
        let dx = Tensor(zeros: s)
        for b in 0..<s[0] { (dx.data + (b * s[1] + index) * s[2]).update(from: dy.data + b * s[2], count: s[2]) }
        return dx
    }
}
