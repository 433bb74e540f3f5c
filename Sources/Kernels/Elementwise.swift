import Foundation

/// Activation functions, each with its forward and backward side by side.
/// Backward takes the forward input `x` (and output `y` where that is cheaper) and the upstream gradient.
public enum Activation: String, Codable, CaseIterable, Sendable {
    case identity, relu, relu6, silu, gelu, sigmoid, hardSwish

    @inline(__always) public func value(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return reluValue(x)
        case .relu6: return relu6Value(x)
        case .silu: return x / (1 + fastExp(-x))
        case .gelu: return 0.5 * x * (1 + fastErf(x * 0.70710678118654752))  // erf form, as PyTorch's default
        case .sigmoid: return 1 / (1 + fastExp(-x))
        case .hardSwish: return x * min(max(x + 3, 0), 6) / 6
        }
    }

    /// dy/dx at x. At kinks tlab follows PyTorch's choices (ReLU'(0) = 0, ReLU6'(6) = 0, hard-swish'(±3) one-sided).
    @inline(__always) public func derivative(_ x: Float) -> Float {
        switch self {
        case .identity: return 1
        case .relu: return x > 0 ? 1 : 0
        case .relu6: return (x > 0 && x < 6) ? 1 : 0
        case .silu:
            let s = 1 / (1 + fastExp(-x)); return s * (1 + x * (1 - s))
        case .gelu:
            let cdf = 0.5 * (1 + fastErf(x * 0.70710678118654752))
            let pdf = fastExp(-0.5 * x * x) * 0.3989422804014327
            return cdf + x * pdf
        case .sigmoid:
            let s = 1 / (1 + fastExp(-x)); return s * (1 - s)
        case .hardSwish:
            if x < -3 { return 0 }
            if x > 3 { return 1 }
            return (2 * x + 3) / 6
        }
    }

    /// SiLU or sigmoid on 16 lanes, bit-identical to `value` (see `fastExp`'s vector form); other cases are
    /// not called with it. A switch on a constant case, not a closure: closures passed to the loops below
    /// stayed calls, and SIMD16 through a call runs as 128-bit pieces via the stack.
    @_transparent public func lanes(_ x: SIMD16<Float>) -> SIMD16<Float> {
        self == .silu ? x / (1 + fastExp(-x)) : 1 / (1 + fastExp(-x))
    }

    /// f'(x) · dy on 16 lanes for SiLU or sigmoid, bit-identical to `derivative(x) * dy`.
    @_transparent public func derivativeLanes(_ x: SIMD16<Float>, _ dy: SIMD16<Float>) -> SIMD16<Float> {
        let s = 1 / (1 + fastExp(-x))
        return (self == .silu ? s * (1 + x * (1 - s)) : s * (1 - s)) * dy
    }

    /// y = f(x), elementwise over `count` values; `y` may alias `x`.
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu:
            Parallel.forEach(count, grain: 1 << 15) { r in mapClamp16(x, y, r.lowerBound, r.upperBound, .relu) }
        case .relu6:
            Parallel.forEach(count, grain: 1 << 15) { r in mapClamp16(x, y, r.lowerBound, r.upperBound, .relu6) }
        case .gelu:
            Parallel.forEach(count, grain: 1 << 14) { r in for i in r { let v = x[i]; y[i] = 0.5 * v * (1 + fastErf(v * 0.70710678118654752)) } }
        case .silu:
            Parallel.forEach(count, grain: 1 << 14) { r in map16(x, y, r.lowerBound, r.upperBound, .silu) }
        case .sigmoid:
            Parallel.forEach(count, grain: 1 << 14) { r in map16(x, y, r.lowerBound, r.upperBound, .sigmoid) }
        default:
            let f = self
            Parallel.forEach(count, grain: 1 << 13) { r in for i in r { y[i] = f.value(x[i]) } }
        }
    }

    /// dx = f'(x) · dy, elementwise; `dx` may alias `dy`.
    public func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu:
            Parallel.forEach(count, grain: 1 << 15) { r in for i in r { dx[i] = x[i] > 0 ? dy[i] : 0 } }
        case .relu6:
            Parallel.forEach(count, grain: 1 << 15) { r in for i in r { dx[i] = (x[i] > 0 && x[i] < 6) ? dy[i] : 0 } }
        // A constant case per loop, so that the inlined `derivative` loses its switch and the loop compiles to vector code.
        case .silu:
            Parallel.forEach(count, grain: 1 << 14) { r in
                map16Derivative(x, dy, dx, r.lowerBound, r.upperBound, .silu)
            }
        case .gelu:
            Parallel.forEach(count, grain: 1 << 14) { r in for i in r { dx[i] = Activation.gelu.derivative(x[i]) * dy[i] } }
        case .sigmoid:
            Parallel.forEach(count, grain: 1 << 14) { r in
                map16Derivative(x, dy, dx, r.lowerBound, r.upperBound, .sigmoid)
            }
        default:
            let f = self
            Parallel.forEach(count, grain: 1 << 13) { r in for i in r { dx[i] = f.derivative(x[i]) * dy[i] } }
        }
    }
}

extension Activation {
    /// `dst[i] = f(src[i])` on the calling thread (inside a kernel's own per-core loop, while the values are
    /// in cache); src and dst may be the same.
    @inline(__always)
    func apply(from src: UnsafePointer<Float>, to dst: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .identity: if UnsafePointer(dst) != src { dst.update(from: src, count: count) }
        case .relu: mapClamp16(src, dst, 0, count, .relu)
        case .relu6: mapClamp16(src, dst, 0, count, .relu6)
        case .silu: map16(src, dst, 0, count, .silu)
        case .sigmoid: map16(src, dst, 0, count, .sigmoid)
        default: for q in 0..<count { dst[q] = value(src[q]) }
        }
    }
}

extension Activation {
    /// The activations whose derivative can be read off their output (ReLU: y > 0; ReLU6: 0 < y < 6, the
    /// same kinks as `derivative`), so that a batch norm may apply them as it writes and keep no
    /// pre-activation tensor for backward.
    public enum Clamp: Sendable {
        case none, relu, relu6

        public init?(_ a: Activation) {
            switch a {
            case .relu: self = .relu
            case .relu6: self = .relu6
            default: return nil
            }
        }

        /// The output above which the derivative is 0 (it is 0 at or below 0 too); nil for `none`, which passes all.
        public var upperBound: Float? {
            switch self {
            case .none: return nil
            case .relu: return .infinity
            case .relu6: return 6
            }
        }

        /// `.none` for the identity as well as for no activation: the activations a clamp can stand for.
        public init?(orIdentity a: Activation) {
            if a == .identity { self = .none } else { self.init(a) }
        }

        /// The clamp on 16 lanes, bit-identical to the scalar loops here (a NaN stays NaN, −0 becomes +0 as
        /// `max(x, 0)` makes it).
        /// (Transparent: as `@inline(__always)` it stayed an outlined call per vector in `mapClamp16`.)
        @_transparent func lanes(_ v: SIMD16<Float>) -> SIMD16<Float> {
            switch self {
            case .none: return v
            case .relu: return v.replacing(with: 0, where: v .<= 0)
            case .relu6: return v.replacing(with: 0, where: v .<= 0).replacing(with: 6, where: v .> 6)
            }
        }

        /// o[q] = clamp(p[q]), one row on the calling thread.
        @inline(__always) func apply(_ p: UnsafePointer<Float>, into o: UnsafeMutablePointer<Float>, count: Int) {
            switch self {
            case .none: for q in 0..<count { o[q] = p[q] }
            case .relu: for q in 0..<count { o[q] = reluValue(p[q]) }
            case .relu6: for q in 0..<count { o[q] = relu6Value(p[q]) }
            }
        }

        /// o[q] = clamp(p[q] · a + b), one plane on the calling thread.
        @inline(__always) public func scaleShift(_ p: UnsafePointer<Float>, _ a: Float, _ b: Float, into o: UnsafeMutablePointer<Float>, count: Int) {
            switch self {
            case .none: for q in 0..<count { o[q] = p[q] * a + b }
            case .relu: for q in 0..<count { o[q] = reluValue(p[q] * a + b) }
            case .relu6: for q in 0..<count { o[q] = relu6Value(p[q] * a + b) }
            }
        }
    }

    /// dx = f'(·) · dy from the forward output `y` of a `Clamp` activation; `dx` may alias `dy`.
    /// `serial`: on the calling thread (inside a kernel's own per-core loop).
    public static func backward(clamp: Clamp, y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int,
                                serial: Bool = false) {
        let grain = serial ? Int.max : 1 << 15
        switch clamp {
        case .none: if UnsafePointer(dx) != dy { dx.update(from: dy, count: count) }
        case .relu: Parallel.forEach(count, grain: grain) { r in for i in r { dx[i] = y[i] > 0 ? dy[i] : 0 } }
        case .relu6: Parallel.forEach(count, grain: grain) { r in for i in r { dx[i] = (y[i] > 0 && y[i] < 6) ? dy[i] : 0 } }
        }
    }
}

/// Swift's `max(x, 0)` and `min(max(x, 0), 6)` as selects, bit for bit (`max(x, y)` is `y >= x ? y : x`: a
/// NaN stays NaN, −0 gives +0). Spelled out because the generic `max` stayed a call per element in some
/// loops (`Activation.apply`'s ReLU6: 9.5 % of Lite0's forward in the call alone).
@inline(__always) func reluValue(_ x: Float) -> Float { 0 >= x ? 0 : x }
@inline(__always) func relu6Value(_ x: Float) -> Float { let m: Float = 0 >= x ? 0 : x; return 6 < m ? 6 : m }

/// eˣ without a libm call (Cephes' single-precision polynomial after range reduction by ln 2, ~1–2 ulp), so
/// that softmax, SiLU and sigmoid loops vectorise. Inputs below −87.3 give 0 and above 88.7 give +∞.
@inline(__always) public func fastExp(_ x: Float) -> Float {
    // Range checks as selects on a clamped input, not early returns, so that loops over it if-convert and
    // vectorise (with early returns they stay scalar). NaN passes both checks and stays NaN.
    let c = x < -87.33654 ? -87.33654 : (x > 88.72283 ? 88.72283 : x)
    let n = (c * 1.44269504088896341 + 0.5).rounded(.down)
    var r = c - n * 0.693359375
    r = r + n * 2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let e = p * r * r + r + 1
    // 2ⁿ built from n's own bits: n + 127 is a whole number in 1…255, so adding 2²³ leaves it in the low
    // mantissa bits, which the shift moves into the exponent: the same bits as `Int32(n) + 127`, and the same
    // formula the 16-lane form below uses (vectors have no cheap Float → Int32 conversion in Swift).
    let y = e * Float(bitPattern: (n + 127 + 8388608).bitPattern << 23)
    return x > 88.72283 ? .infinity : (x < -87.33654 ? 0 : y)
}

/// `fastExp` on 16 lanes: the scalar function's operations lane by lane (bit-identical), written as vector
/// code because LLVM turns the scalar version's range selects into branches around the polynomial, which
/// keeps every loop over it scalar (EfficientNet-B0's SiLU loops were half of its forward time).
@_transparent public func fastExp(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let lo = SIMD16<Float>(repeating: -87.33654), hi = SIMD16<Float>(repeating: 88.72283)
    let c = x.replacing(with: hi, where: x .> hi).replacing(with: lo, where: x .< lo)
    // floor(t) as round-to-nearest (adding and removing 1.5·2²³, exact for |t| < 2²²) minus one where that
    // rounded up: the value `rounded(.down)` gives, without the stdlib's lane-by-lane loop.
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

/// y[i] = f(x[i]) for i in lower..<upper (f: SiLU or sigmoid), 16 lanes at a time; y may alias x. A range
/// whose length is not a multiple of 16 (planes of 7×7 or 14×14, parallel chunk ends) ends with one vector
/// over its last 16 values, overlapping the one before: those values were read before any store, so an
/// in-place call sees its inputs, and the overlap gets the same values again. (A small buffer for the tail
/// compiled to a closure passing SIMD16 through the stack in 128-bit pieces: a fifth of B0's forward.)
/// Ranges under 16 run the scalar `value`, which is bit-identical to `lanes`.
@_transparent func map16(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lower: Int, _ upper: Int, _ f: Activation) {
    guard upper - lower >= 16 else {
        for i in lower..<upper { y[i] = f.value(x[i]) }
        return
    }
    let last = upper - 16, lastIn = load16(x + last)
    var i = lower
    while i + 16 <= upper { store16(f.lanes(load16(x + i)), y + i); i += 16 }
    if i < upper { store16(f.lanes(lastIn), y + last) }
}

/// y[i] = clamp(x[i]) for i in lower..<upper, 16 lanes at a time with `map16`'s overlapping last vector; y may
/// alias x. A plain loop vectorises only behind a runtime overlap check, which an in-place call fails: the
/// per-tile ReLU6 of folded convolutions ran scalar (4.8 % of the fine-tune-top step with the depthwise copy-out).
/// `lanes` and `reluValue` / `relu6Value` agree bit for bit, NaN included.
@_transparent func mapClamp16(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ lower: Int, _ upper: Int, _ clamp: Activation.Clamp) {
    guard upper - lower >= 16 else {
        for i in lower..<upper { y[i] = clamp == .relu6 ? relu6Value(x[i]) : clamp == .relu ? reluValue(x[i]) : x[i] }
        return
    }
    let last = upper - 16, lastIn = load16(x + last)
    var i = lower
    while i + 16 <= upper { store16(clamp.lanes(load16(x + i)), y + i); i += 16 }
    if i < upper { store16(clamp.lanes(lastIn), y + last) }
}

/// dx[i] = f'(x[i]) · dy[i] for i in lower..<upper, as `map16` (the same overlapping last vector); dx may
/// alias dy.
@_transparent func map16Derivative(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                   _ lower: Int, _ upper: Int, _ f: Activation) {
    guard upper - lower >= 16 else {
        for i in lower..<upper { dx[i] = f.derivative(x[i]) * dy[i] }
        return
    }
    let last = upper - 16, lastX = load16(x + last), lastDy = load16(dy + last)
    var i = lower
    while i + 16 <= upper { store16(f.derivativeLanes(load16(x + i), load16(dy + i)), dx + i); i += 16 }
    if i < upper { store16(f.derivativeLanes(lastX, lastDy), dx + last) }
}

/// erf(x) as a rational function of x² on [−4, 4] (clamped outside, where |erf| = 1 to float precision):
/// no libm call, so loops over it vectorise. Max error 3.7e-7 (GELU built on it: 1e-6), measured against
/// double-precision erf on [−6, 6] — within float32's own rounding of PyTorch's GELU.
@inline(__always) public func fastErf(_ x: Float) -> Float {
    let c = min(max(x, -4), 4), x2 = c * c
    var p: Float = -2.72614225801306e-10
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 - 2.10102402082508e-06
    p = p * x2 - 5.69250639462346e-05
    p = p * x2 - 7.34990630326855e-04
    p = p * x2 - 2.95459980854025e-03
    p = p * x2 - 1.60960333262415e-02
    var q: Float = -1.45660718464996e-05
    q = q * x2 - 2.13374055278905e-04
    q = q * x2 - 1.68282697438203e-03
    q = q * x2 - 7.37332916720468e-03
    q = q * x2 - 1.42647390514189e-02
    return c * p / q
}

/// out = a + b (same count); `out` may alias either input.
public func addElementwise(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forEach(count, grain: 1 << 15) { r in for i in r { out[i] = a[i] + b[i] } }
}

/// out = clamp(a + b): a residual sum with the ReLU after it, in one pass.
public func addElementwise(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int,
                           clamp: Activation.Clamp) {
    switch clamp {
    case .none: addElementwise(a, b, out, count: count)
    case .relu: Parallel.forEach(count, grain: 1 << 15) { r in for i in r { out[i] = reluValue(a[i] + b[i]) } }
    case .relu6: Parallel.forEach(count, grain: 1 << 15) { r in for i in r { out[i] = relu6Value(a[i] + b[i]) } }
    }
}

/// acc += x.
public func accumulate(_ x: UnsafePointer<Float>, into acc: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forEach(count, grain: 1 << 15) { r in for i in r { acc[i] += x[i] } }
}

/// x *= s.
public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
    Parallel.forEach(count, grain: 1 << 15) { r in for i in r { x[i] *= s } }
}

/// Per-plane scales, the squeeze-excitation gate: y[i, q] = x[i, q] · scale[i] (+ shift[i] when given) over
/// `planes` planes of `plane` values, across cores. Here rather than in Layers so that it compiles for AVX2
/// (Layers' own loops were SSE2), in 16-lane vectors with the overlapping last vector of `map16`: y may alias x.
public func scalePlanes(_ x: UnsafePointer<Float>, by scale: UnsafePointer<Float>, plus shift: UnsafePointer<Float>? = nil,
                        into y: UnsafeMutablePointer<Float>, planes: Int, plane: Int) {
    Parallel.forEach(planes, grain: max(1, (1 << 14) / max(plane, 1))) { r in
        for i in r {
            let s = scale[i], src = x + i * plane, dst = y + i * plane
            if let shift { scalePlane(src, s, shift[i], dst, plane) } else { scalePlane(src, s, dst, plane) }
        }
    }
}

@_transparent func scalePlane(_ src: UnsafePointer<Float>, _ s: Float, _ b: Float, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    guard count >= 16 else { for q in 0..<count { dst[q] = src[q] * s + b }; return }
    let sv = SIMD16<Float>(repeating: s), bv = SIMD16<Float>(repeating: b), last = count - 16, lastIn = load16(src + last)
    var q = 0
    while q + 16 <= count { store16(load16(src + q) * sv + bv, dst + q); q += 16 }
    if q < count { store16(lastIn * sv + bv, dst + last) }
}

@_transparent func scalePlane(_ src: UnsafePointer<Float>, _ s: Float, _ dst: UnsafeMutablePointer<Float>, _ count: Int) {
    guard count >= 16 else { for q in 0..<count { dst[q] = src[q] * s }; return }
    let sv = SIMD16<Float>(repeating: s), last = count - 16, lastIn = load16(src + last)
    var q = 0
    while q + 16 <= count { store16(load16(src + q) * sv, dst + q); q += 16 }
    if q < count { store16(lastIn * sv, dst + last) }
}
