import Foundation

/// Separable resampling with a triangle (bilinear) filter whose support widens when shrinking — the
/// antialiased resize of PIL and of torchvision's `Resize(antialias=True)`. Works in float, per channel.
public enum Resample {
    /// Taps for one axis: for each output index, the first input index and its normalised weights.
    struct Taps { let start: [Int]; let weights: [[Float]] }

    static func taps(from inSize: Int, to outSize: Int) -> Taps {
        // Float arithmetic throughout, as PyTorch's CPU kernel for float tensors computes its weights,
        // so both round the same way.
        let scale = Float(inSize) / Float(outSize)
        let support: Float = scale >= 1 ? scale : 1
        let invScale: Float = scale >= 1 ? 1 / scale : 1
        var starts: [Int] = [], weights: [[Float]] = []
        for o in 0..<outSize {
            let center = scale * (Float(o) + 0.5)
            let lo = max(Int(center - support + 0.5), 0), hi = min(Int(center + support + 0.5), inSize)
            var w = (lo..<hi).map { j -> Float in max(0, 1 - abs((Float(j) - center + 0.5) * invScale)) }
            let total = w.reduce(0, +)
            if total != 0 { w = w.map { $0 / total } }
            starts.append(lo); weights.append(w)
        }
        return Taps(start: starts, weights: weights)
    }

    /// Resizes an interleaved 8-bit image to planar float channels [C, outH, outW] with values in 0…255.
    public static func resize(_ image: Image, width outW: Int, height outH: Int) -> [Float] {
        let c = image.channels, inW = image.width, inH = image.height
        let tx = taps(from: inW, to: outW), ty = taps(from: inH, to: outH)
        // Horizontal pass: [C, inH, outW].
        var mid = [Float](repeating: 0, count: c * inH * outW)
        image.pixels.withUnsafeBufferPointer { px in
            for y in 0..<inH {
                let row = y * inW * c
                for x in 0..<outW {
                    let s = tx.start[x], w = tx.weights[x]
                    for ch in 0..<c {
                        var acc: Float = 0
                        for k in 0..<w.count { acc += w[k] * Float(px[row + (s + k) * c + ch]) }
                        mid[(ch * inH + y) * outW + x] = acc
                    }
                }
            }
        }
        // Vertical pass: [C, outH, outW].
        var out = [Float](repeating: 0, count: c * outH * outW)
        for ch in 0..<c {
            for y in 0..<outH {
                let s = ty.start[y], w = ty.weights[y]
                let dst = (ch * outH + y) * outW
                for k in 0..<w.count {
                    let src = (ch * inH + s + k) * outW, wk = w[k]
                    for x in 0..<outW { out[dst + x] += wk * mid[src + x] }
                }
            }
        }
        return out
    }
}
