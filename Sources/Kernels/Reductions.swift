/// Sixteen floats from or to any address: the vector loads and stores the kernels share.
@inline(__always) func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
@inline(__always) func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }
/// Thirty-two floats: a stride-2 run of 16 is the `evenHalf` / `oddHalf` of one.
@inline(__always) func load32(_ p: UnsafePointer<Float>) -> SIMD32<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self) }
@inline(__always) func store32(_ v: SIMD32<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD32<Float>.self) }

/// Floating-point sums that vectorise. Swift never reassociates `s += p[i]`, so a plain loop is one serial
/// chain of scalar adds (4 cycles each). These keep 16 or 32 lanes of partial sums and combine them in a
/// fixed order: a result depends only on the values and their count, never on the thread that ran it.
public enum Reduce {

    /// g where the clamp's output y lies strictly between 0 and `upper`, else 0: ReLU / ReLU6's derivative.
    @inline(__always) static func passed(_ g: SIMD16<Float>, _ y: SIMD16<Float>, below upper: Float) -> SIMD16<Float> {
        SIMD16<Float>().replacing(with: g, where: (y .> 0) .& (y .< upper))
    }

    /// Σ p[i].
    @inline(__always) public static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), i = 0
        while i + 32 <= count { a0 += load16(p + i); a1 += load16(p + i + 16); i += 32 }
        if i + 16 <= count { a0 += load16(p + i); i += 16 }
        var s = (a0 + a1).sum()
        while i < count { s += p[i]; i += 1 }
        return s
    }

    /// Σ (p[i] − mu)².
    @inline(__always) public static func squaredDeviations(_ p: UnsafePointer<Float>, from mu: Float, count: Int) -> Float {
        let m = SIMD16<Float>(repeating: mu)
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), i = 0
        while i + 32 <= count {
            let d0 = load16(p + i) - m, d1 = load16(p + i + 16) - m
            a0.addProduct(d0, d0); a1.addProduct(d1, d1); i += 32
        }
        if i + 16 <= count { let d = load16(p + i) - m; a0.addProduct(d, d); i += 16 }
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
            let g0 = load16(g + i), g1 = load16(g + i + 16)
            s0 += g0; s1 += g1
            d0.addProduct(g0, load16(x + i) - m); d1.addProduct(g1, load16(x + i + 16) - m); i += 32
        }
        if i + 16 <= count { let g0 = load16(g + i); s0 += g0; d0.addProduct(g0, load16(x + i) - m); i += 16 }
        var s = (s0 + s1).sum(), d = (d0 + d1).sum()
        while i < count { s += g[i]; d = d.addingProduct(g[i], x[i] - mu); i += 1 }
        return (s, d)
    }

    /// `sumAndCentredDot` of g after a ReLU / ReLU6 derivative: lanes whose forward output y sat on a bound
    /// (y ≤ 0 or y ≥ upper) count as 0 — the masked gradient, summed in the same order, without storing it.
    @inline(__always) public static func sumAndCentredDot(_ g: UnsafePointer<Float>, passing y: UnsafePointer<Float>, below upper: Float,
                                                         _ x: UnsafePointer<Float>, from mu: Float, count: Int) -> (Float, Float) {
        let m = SIMD16<Float>(repeating: mu)
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), d0 = SIMD16<Float>(), d1 = SIMD16<Float>(), i = 0
        while i + 32 <= count {
            let g0 = passed(load16(g + i), load16(y + i), below: upper), g1 = passed(load16(g + i + 16), load16(y + i + 16), below: upper)
            s0 += g0; s1 += g1
            d0.addProduct(g0, load16(x + i) - m); d1.addProduct(g1, load16(x + i + 16) - m); i += 32
        }
        if i + 16 <= count {
            let g0 = passed(load16(g + i), load16(y + i), below: upper)
            s0 += g0; d0.addProduct(g0, load16(x + i) - m); i += 16
        }
        var s = (s0 + s1).sum(), d = (d0 + d1).sum()
        while i < count { let gi = y[i] > 0 && y[i] < upper ? g[i] : 0; s += gi; d = d.addingProduct(gi, x[i] - mu); i += 1 }
        return (s, d)
    }

    /// Σ p[i] · q[i].
    @inline(__always) public static func dot(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, count: Int) -> Float {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), i = 0
        while i + 32 <= count { a0.addProduct(load16(p + i), load16(q + i)); a1.addProduct(load16(p + i + 16), load16(q + i + 16)); i += 32 }
        if i + 16 <= count { a0.addProduct(load16(p + i), load16(q + i)); i += 16 }
        var s = (a0 + a1).sum()
        while i < count { s = s.addingProduct(p[i], q[i]); i += 1 }
        return s
    }

    /// max p[i] (count ≥ 1). Exact in any order, so only the NaN rule matters: a NaN anywhere gives NaN.
    @inline(__always) public static func max(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var m = -Float.infinity, i = 0
        if count >= 16 {
            var a = load16(p)
            var nan = a .!= a
            i = 16
            // Compare-and-blend rather than pointwiseMax and SIMD's max(), which compile lane by lane.
            while i + 16 <= count { let v = load16(p + i); a.replace(with: v, where: v .> a); nan .|= v .!= v; i += 16 }
            if any(nan) { return .nan }
            var h8 = a.lowHalf; h8.replace(with: a.highHalf, where: a.highHalf .> h8)
            var h4 = h8.lowHalf; h4.replace(with: h8.highHalf, where: h8.highHalf .> h4)
            m = Swift.max(Swift.max(h4[0], h4[1]), Swift.max(h4[2], h4[3]))
        }
        while i < count { let v = p[i]; if v.isNaN { return .nan }; if v > m { m = v }; i += 1 }
        return m
    }

    /// (Σ g[i] · w[i], Σ g[i] · w[i] · (x[i] − mu)): layer norm's backward sums, g the upstream gradient and w
    /// the per-column scale.
    @inline(__always) public static func weightedSumAndCentredDot(_ g: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                                                 _ x: UnsafePointer<Float>, from mu: Float, count: Int) -> (Float, Float) {
        let m = SIMD16<Float>(repeating: mu)
        var s0 = SIMD16<Float>(), d0 = SIMD16<Float>(), i = 0
        while i + 16 <= count {
            let gw = load16(g + i) * load16(w + i)
            s0 += gw; d0.addProduct(gw, load16(x + i) - m); i += 16
        }
        var s = s0.sum(), d = d0.sum()
        while i < count { let gw = g[i] * w[i]; s += gw; d = d.addingProduct(gw, x[i] - mu); i += 1 }
        return (s, d)
    }
}
