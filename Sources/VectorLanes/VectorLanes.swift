/// 16-lane float code that tlab runs either as AVX2 (inlined into Kernels, which targets Haswell) or as AVX-512
/// (this module's own compiled entry points, built for Skylake-AVX512 and called only when the CPU has it).
///
/// Kernels is compiled for every x86-64 CPU since 2013, so a SIMD16<Float> there is two 256-bit halves; on a
/// CPU with AVX-512 the same operations in one 512-bit register take half the instructions. Swift has no
/// per-function target attribute, so the lanes live here once, `@_transparent` (compiled in the caller's
/// module, with its target), and the `…AVX512` functions below are the only code compiled for this module's
/// target. Both forms do the same IEEE operations in the same order: bit-identical results.

/// Sixteen floats from or to any address.
@_transparent public func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }
@_transparent public func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self) }

/// e^x on 16 lanes: Kernels' scalar `fastExp` operation by operation (bit-identical; the scalar form's range
/// selects compile to branches, which keeps loops over it scalar). Floor as round-to-nearest (adding and
/// removing 1.5·2²³, exact for |t| < 2²²) minus one where that rounded up; 2ⁿ from n's bits.
@_transparent public func fastExp16(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let lo = SIMD16<Float>(repeating: -87.33654), hi = SIMD16<Float>(repeating: 88.72283)
    let c = x.replacing(with: hi, where: x .> hi).replacing(with: lo, where: x .< lo)
    let t = c * 1.44269504088896341 + 0.5, magic = SIMD16<Float>(repeating: 12582912)
    let nearest = (t + magic) - magic
    let n = nearest.replacing(with: nearest - 1, where: nearest .> t)
    var r = c - n * 0.693359375
    r = r + n * 2.12194440e-4
    var p = SIMD16<Float>(repeating: 1.9875691500e-4)
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let e = p * r * r + r + 1
    let y = e * unsafeBitCast(unsafeBitCast(n + 127 + 8388608, to: SIMD16<UInt32>.self) &<< 23, to: SIMD16<Float>.self)
    return y.replacing(with: 0, where: x .< lo).replacing(with: .infinity, where: x .> hi)
}

/// SiLU (x·σ(x), as x / (1 + e^−x)) or, with `silu` false, σ(x) on 16 lanes.
@_transparent public func siluOrSigmoid16(_ x: SIMD16<Float>, silu: Bool) -> SIMD16<Float> {
    silu ? x / (1 + fastExp16(-x)) : 1 / (1 + fastExp16(-x))
}

/// f'(x) · dy on 16 lanes for SiLU or sigmoid.
@_transparent public func siluOrSigmoidDerivative16(_ x: SIMD16<Float>, _ dy: SIMD16<Float>, silu: Bool) -> SIMD16<Float> {
    let s = 1 / (1 + fastExp16(-x))
    return (silu ? s * (1 + x * (1 - s)) : s * (1 - s)) * dy
}

/// y[i] = f(x[i]) for i in lower..<upper, 16 lanes at a time; y may alias x. A range of 16 or more ends with
/// one vector over its last 16 values, read before the loop writes anything (so in place it still sees the
/// inputs) and stored last: planes of 7×7 or 14×14 leave a tail in every call, and a tail through a buffer
/// cost a fifth of EfficientNet-B0's forward. Shorter ranges go lane by lane into one vector.
@_transparent public func mapSiLUOrSigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lower: Int, _ upper: Int, silu: Bool) {
    if upper - lower >= 16 {
        let last = load16(x + upper - 16)
        var i = lower
        while i + 16 <= upper { store16(siluOrSigmoid16(load16(x + i), silu: silu), y + i); i += 16 }
        if i < upper { store16(siluOrSigmoid16(last, silu: silu), y + upper - 16) }
        return
    }
    var v = SIMD16<Float>(repeating: 0)
    for l in 0..<(upper - lower) { v[l] = x[lower + l] }
    let r = siluOrSigmoid16(v, silu: silu)
    for l in 0..<(upper - lower) { y[lower + l] = r[l] }
}

/// dx[i] = f'(x[i]) · dy[i] for i in lower..<upper, as `mapSiLUOrSigmoid`; dx may alias dy.
@_transparent public func mapSiLUOrSigmoidDerivative(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                                     _ lower: Int, _ upper: Int, silu: Bool) {
    if upper - lower >= 16 {
        let lastX = load16(x + upper - 16), lastDy = load16(dy + upper - 16)
        var i = lower
        while i + 16 <= upper { store16(siluOrSigmoidDerivative16(load16(x + i), load16(dy + i), silu: silu), dx + i); i += 16 }
        if i < upper { store16(siluOrSigmoidDerivative16(lastX, lastDy, silu: silu), dx + upper - 16) }
        return
    }
    var v = SIMD16<Float>(repeating: 0), d = v
    for l in 0..<(upper - lower) { v[l] = x[lower + l]; d[l] = dy[lower + l] }
    let r = siluOrSigmoidDerivative16(v, d, silu: silu)
    for l in 0..<(upper - lower) { dx[lower + l] = r[l] }
}

/// `mapSiLUOrSigmoid` compiled for AVX-512. Call only when the CPU has AVX-512 F/CD/BW/DQ/VL.
public func mapSiLUOrSigmoidAVX512(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lower: Int, _ upper: Int, silu: Bool) {
    // Two copies with a constant case each, so neither loop tests `silu` per vector.
    if silu { mapSiLUOrSigmoid(x, y, lower, upper, silu: true) } else { mapSiLUOrSigmoid(x, y, lower, upper, silu: false) }
}

/// `mapSiLUOrSigmoidDerivative` compiled for AVX-512. Call only when the CPU has AVX-512 F/CD/BW/DQ/VL.
public func mapSiLUOrSigmoidDerivativeAVX512(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                             _ lower: Int, _ upper: Int, silu: Bool) {
    if silu { mapSiLUOrSigmoidDerivative(x, dy, dx, lower, upper, silu: true) } else { mapSiLUOrSigmoidDerivative(x, dy, dx, lower, upper, silu: false) }
}
