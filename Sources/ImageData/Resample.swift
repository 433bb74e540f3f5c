import Foundation
import Kernels

/// Separable resampling with a triangle (bilinear) filter whose support widens when shrinking — the
/// antialiased resize of PIL and of torchvision's `Resize(antialias=True)`. Works in float, per channel.
public enum Resample {
    /// Taps for one axis, flat: output index o reads inputs start[o]..< start[o] + count(o) with weights
    /// weights[offset[o]..<offset[o + 1]] (one array, so the hot loops do no per-row array retains).
    struct Taps {
        let start: [Int], offset: [Int], weights: [Float]
        func count(_ o: Int) -> Int { offset[o + 1] - offset[o] }
    }

    static func taps(from inSize: Int, to outSize: Int) -> Taps {
        // Float arithmetic throughout, as PyTorch's CPU kernel for float tensors computes its weights,
        // so both round the same way.
        let scale = Float(inSize) / Float(outSize)
        let support: Float = scale >= 1 ? scale : 1
        let invScale: Float = scale >= 1 ? 1 / scale : 1
        var starts: [Int] = [], offsets: [Int] = [0], weights: [Float] = []
        for o in 0..<outSize {
            let center = scale * (Float(o) + 0.5)
            let lo = max(Int(center - support + 0.5), 0), hi = min(Int(center + support + 0.5), inSize)
            var w = (lo..<hi).map { j -> Float in max(0, 1 - abs((Float(j) - center + 0.5) * invScale)) }
            let total = w.reduce(0, +)
            if total != 0 { w = w.map { $0 / total } }
            starts.append(lo); weights += w; offsets.append(weights.count)
        }
        return Taps(start: starts, offset: offsets, weights: weights)
    }

    /// Resizes an interleaved 8-bit image to planar float channels [C, outH, outW] with values in 0…255.
    public static func resize(_ image: Image, width outW: Int, height outH: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: image.channels * outH * outW) { out, n in
            resize(image, width: outW, height: outH, window: (0, 0, outW, outH), into: out.baseAddress!)
            n = out.count
        }
    }

    /// The `window` (left, top, width, height) of the resize to `outW` × `outH`, planar [C, height, width]
    /// into `out`: only the kept outputs are computed, each exactly as the whole resize computes it. The
    /// horizontal pass's scratch comes from the tensor pool (a fresh one per image was a page fault per 4 KB).
    public static func resize(_ image: Image, width outW: Int, height outH: Int, window: (left: Int, top: Int, width: Int, height: Int),
                              into out: UnsafeMutablePointer<Float>) {
        let c = image.channels, inW = image.width, inH = image.height, w = window.width, h = window.height
        precondition(window.left >= 0 && window.top >= 0 && window.left + w <= outW && window.top + h <= outH, "window outside the resized image")
        let tx = taps(from: inW, to: outW), ty = taps(from: inH, to: outH)
        let mid = Tensor(uninitialized: [c * inH * w])
        // Horizontal pass: [C, inH, window width]; each output a dot of its taps in order.
        image.pixels.withUnsafeBufferPointer { px in
        tx.start.withUnsafeBufferPointer { xStart in tx.offset.withUnsafeBufferPointer { xOffset in tx.weights.withUnsafeBufferPointer { xWeight in
            for y in 0..<inH {
                let row = px.baseAddress! + y * inW * c
                for ch in 0..<c {
                    let dst = mid.data + (ch * inH + y) * w
                    for x in 0..<w {
                        let o = window.left + x
                        let src = row + xStart[o] * c + ch, weights = xWeight.baseAddress! + xOffset[o]
                        var acc: Float = 0
                        for k in 0..<xOffset[o + 1] - xOffset[o] { acc += weights[k] * Float(src[k * c]) }
                        dst[x] = acc
                    }
                }
            }
        }}}}
        // Vertical pass: [C, window height, window width]; each output row adds its taps' rows in order (from zero).
        out.update(repeating: 0, count: c * h * w)
        for ch in 0..<c {
            for y in 0..<h {
                let o = window.top + y, dst = out + (ch * h + y) * w
                for k in 0..<ty.count(o) {
                    let src = mid.data + (ch * inH + ty.start[o] + k) * w, wk = ty.weights[ty.offset[o] + k]
                    for x in 0..<w { dst[x] += wk * src[x] }
                }
            }
        }
    }
}
