/// Floating-point sums that vectorise. Swift never reassociates `s += p[i]`, so a plain loop is one serial
/// chain of scalar adds (4 cycles each). These keep 32 lanes of partial sums, 16 and 16, and combine them in
/// a fixed order: a result depends only on the values and their count, never on the thread that ran it.
public enum Reduce {
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Σ p[i].
    @inline(__always) public static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), i = 0
        while i + 32 <= count { a0 += load(p + i); a1 += load(p + i + 16); i += 32 }
        if i + 16 <= count { a0 += load(p + i); i += 16 }
        var s = (a0 + a1).sum()
        while i < count { s += p[i]; i += 1 }
        return s
    }

    /// Σ (p[i] − mu)².
    @inline(__always) public static func squaredDeviations(_ p: UnsafePointer<Float>, from mu: Float, count: Int) -> Float {
        let m = SIMD16<Float>(repeating: mu)
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), i = 0
        while i + 32 <= count {
            let d0 = load(p + i) - m, d1 = load(p + i + 16) - m
            a0.addProduct(d0, d0); a1.addProduct(d1, d1); i += 32
        }
        if i + 16 <= count { let d = load(p + i) - m; a0.addProduct(d, d); i += 16 }
        var s = (a0 + a1).sum()
        while i < count { let d = p[i] - mu; s = s.addingProduct(d, d); i += 1 }
        return s
    }

    /// (Σ g[i], Σ g[i] · (x[i] − mu)) in one pass: what batch norm's backward needs per channel.
    @inline(__always) public static func sumAndCentredDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
                                                         from mu: Float, count: Int) -> (Float, Float) {
        let m = SIMD16<Float>(repeating: mu)
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), d0 = SIMD16<Float>(), d1 = SIMD16<Float>(), i = 0
        while i + 32 <= count {
            let g0 = load(g + i), g1 = load(g + i + 16)
            s0 += g0; s1 += g1
            d0.addProduct(g0, load(x + i) - m); d1.addProduct(g1, load(x + i + 16) - m); i += 32
        }
        if i + 16 <= count { let g0 = load(g + i); s0 += g0; d0.addProduct(g0, load(x + i) - m); i += 16 }
        var s = (s0 + s1).sum(), d = (d0 + d1).sum()
        while i < count { s += g[i]; d = d.addingProduct(g[i], x[i] - mu); i += 1 }
        return (s, d)
    }
}
