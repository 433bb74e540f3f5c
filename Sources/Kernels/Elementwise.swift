import Foundation

/// Activation functions, each with its forward and backward side by side.
/// Backward takes the forward input `x` (and output `y` where that is cheaper) and the upstream gradient.
public enum Activation: String, Codable, CaseIterable, Sendable {
    case identity, relu, relu6, silu, gelu, sigmoid, hardSwish

    @inline(__always) public func value(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return max(x, 0)
        case .relu6: return min(max(x, 0), 6)
        case .silu: return x / (1 + expf(-x))
        case .gelu: return 0.5 * x * (1 + erff(x * 0.70710678118654752))  // exact erf form, as PyTorch's default
        case .sigmoid: return 1 / (1 + expf(-x))
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
            let s = 1 / (1 + expf(-x)); return s * (1 + x * (1 - s))
        case .gelu:
            let cdf = 0.5 * (1 + erff(x * 0.70710678118654752))
            let pdf = expf(-0.5 * x * x) * 0.3989422804014327
            return cdf + x * pdf
        case .sigmoid:
            let s = 1 / (1 + expf(-x)); return s * (1 - s)
        case .hardSwish:
            if x < -3 { return 0 }
            if x > 3 { return 1 }
            return (2 * x + 3) / 6
        }
    }

    /// y = f(x), elementwise over `count` values; `y` may alias `x`.
    public func forward(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu:
            Parallel.forEach(count, grain: 1 << 15) { r in for i in r { y[i] = max(x[i], 0) } }
        case .relu6:
            Parallel.forEach(count, grain: 1 << 15) { r in for i in r { y[i] = min(max(x[i], 0), 6) } }
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
        default:
            let f = self
            Parallel.forEach(count, grain: 1 << 13) { r in for i in r { dx[i] = f.derivative(x[i]) * dy[i] } }
        }
    }
}

/// out = a + b (same count); `out` may alias either input.
public func addElementwise(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forEach(count, grain: 1 << 15) { r in for i in r { out[i] = a[i] + b[i] } }
}

/// acc += x.
public func accumulate(_ x: UnsafePointer<Float>, into acc: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forEach(count, grain: 1 << 15) { r in for i in r { acc[i] += x[i] } }
}

/// x *= s.
public func scale(_ x: UnsafeMutablePointer<Float>, by s: Float, count: Int) {
    Parallel.forEach(count, grain: 1 << 15) { r in for i in r { x[i] *= s } }
}
