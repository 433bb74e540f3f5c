import Foundation

/// Batch normalisation over [N, C, S] (S = H·W, or 1 for [N, C]). Statistics are per channel.
public enum BatchNormKernel {
    /// Training mode: normalises with the batch's own mean and biased variance, and returns them so the
    /// caller can update running statistics and keep them for the backward pass.
    public static func forwardTraining(x: UnsafePointer<Float>, n: Int, c: Int, s: Int, eps: Float,
                                       gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                       y: UnsafeMutablePointer<Float>,
                                       mean: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>,
                                       variance: UnsafeMutablePointer<Float>, clamp: Activation.Clamp = .none) {
        let m = Double(n * s)
        Parallel.forEach(c, grain: 1) { r in
            for ch in r {
                // Two passes in double: ELPV images are mostly dark with bright cracks, which makes one-pass
                // E[x²] − E[x]² lose digits.
                var sum = 0.0
                for i in 0..<n { sum += Double(Reduce.sum(x + (i * c + ch) * s, count: s)) }
                let mu = sum / m
                var sq = 0.0
                let muF = Float(mu)
                for i in 0..<n { sq += Double(Reduce.squaredDeviations(x + (i * c + ch) * s, from: muF, count: s)) }
                let v = sq / m
                let inv = Float(1 / (v + Double(eps)).squareRoot())
                mean[ch] = muF; invStd[ch] = inv; variance[ch] = Float(v)
                let a = gamma[ch] * inv, b = beta[ch] - muF * a
                for i in 0..<n { clamp.scaleShift(x + (i * c + ch) * s, a, b, into: y + (i * c + ch) * s, count: s) }
            }
        }
    }

    /// Inference mode: y = (x − mean) · invStd · gamma + beta with fixed statistics.
    public static func forwardInference(x: UnsafePointer<Float>, n: Int, c: Int, s: Int,
                                        mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
                                        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                        y: UnsafeMutablePointer<Float>, clamp: Activation.Clamp = .none) {
        Parallel.forEach(n * c, grain: 4) { r in
            for item in r {
                let ch = item % c
                let a = gamma[ch] * invStd[ch], b = beta[ch] - mean[ch] * a
                clamp.scaleShift(x + item * s, a, b, into: y + item * s, count: s)
            }
        }
    }

    /// Backward of either mode. With `batchStatistics` the mean and variance depend on x, which adds the two
    /// centring terms; without (inference-mode BN) dx is a per-channel scale of dy.
    public static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, n: Int, c: Int, s: Int,
                                mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                                batchStatistics: Bool,
                                dx: UnsafeMutablePointer<Float>?, dGamma: UnsafeMutablePointer<Float>?,
                                dBeta: UnsafeMutablePointer<Float>?,
                                clamped: (output: UnsafePointer<Float>, clamp: Activation.Clamp)? = nil) {
        let m = Float(n * s)
        // With `clamped`, dy is the gradient at the output of the ReLU / ReLU6 that followed this batch norm
        // (whose forward wrote `output`): both passes read dy through the activation's derivative, lane by lane,
        // instead of writing the masked gradient to a tensor of its own.
        // (nil also for a clamp of `.none`, which passes every value: both passes must agree on that.)
        let mask: (output: UnsafePointer<Float>, upper: Float)? = clamped.flatMap { c in c.clamp.upperBound.map { (c.output, $0) } }
        // Channels go in blocks of `block`, image by image within a block: one image's planes of a block are
        // contiguous, so the reads stream (channel by channel they were 32 short strided runs, and the loads
        // waited on memory), and a block's planes stay in cache between the two passes. Each channel still
        // sums its images in order: the same values as channel by channel.
        let block = 8
        let threads = min(Parallel.cores, c)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let lo = c * t / threads, hi = c * (t + 1) / threads
            var sumDy = [Double](repeating: 0, count: block), sumDyXhat = sumDy
            var coefficients = [(k: Float, meanDy: Float, meanDyXhat: Float)](repeating: (0, 0, 0), count: block)
            var b0 = lo
            while b0 < hi {
                let b1 = min(b0 + block, hi)
                for j in 0..<b1 - b0 { sumDy[j] = 0; sumDyXhat[j] = 0 }
                for i in 0..<n {
                    for ch in b0..<b1 {
                        let at = (i * c + ch) * s
                        let (a, b) = if let mask {
                            Reduce.sumAndCentredDot(dy + at, passing: mask.output + at, below: mask.upper, x + at, from: mean[ch], count: s)
                        } else {
                            Reduce.sumAndCentredDot(dy + at, x + at, from: mean[ch], count: s)
                        }
                        sumDy[ch - b0] += Double(a); sumDyXhat[ch - b0] += Double(b)
                    }
                }
                for ch in b0..<b1 {
                    let inv = invStd[ch], sDy = Float(sumDy[ch - b0]), sDyXhat = Float(sumDyXhat[ch - b0]) * inv
                    dGamma?[ch] += sDyXhat
                    dBeta?[ch] += sDy
                    coefficients[ch - b0] = (gamma[ch] * inv, sDy / m, sDyXhat / m)
                }
                if let dx {
                    for i in 0..<n {
                        for ch in b0..<b1 {
                            let at = (i * c + ch) * s, co = coefficients[ch - b0]
                            inputGradient(dy + at, passing: mask.map { $0.output + at }, below: mask?.upper ?? .infinity, x + at,
                                          mu: mean[ch], inv: invStd[ch], k: co.k, meanDy: co.meanDy, meanDyXhat: co.meanDyXhat,
                                          batchStatistics: batchStatistics, into: dx + at, count: s)
                        }
                    }
                }
                b0 = b1
            }
        }
    }

    /// One plane of dx: k · (g − mean(g) − (x − mu) · inv · mean(g · x̂)) with batch statistics, k · g without;
    /// g is dy read through the clamp's derivative when `y` is given. Evaluated in the order the scalar
    /// expression is, so vector lanes and tail give the same bits.
    @inline(__always) static func inputGradient(_ g: UnsafePointer<Float>, passing y: UnsafePointer<Float>?, below upper: Float,
                                                _ x: UnsafePointer<Float>, mu: Float, inv: Float, k: Float, meanDy: Float, meanDyXhat: Float,
                                                batchStatistics: Bool, into o: UnsafeMutablePointer<Float>, count: Int) {
        @inline(__always) func grad(_ q: Int) -> Float { guard let y else { return g[q] }; return y[q] > 0 && y[q] < upper ? g[q] : 0 }
        @inline(__always) func grad16(_ q: Int) -> SIMD16<Float> {
            guard let y else { return load16(g + q) }
            return Reduce.passed(load16(g + q), load16(y + q), below: upper)
        }
        var q = 0
        if batchStatistics {
            let kv = SIMD16<Float>(repeating: k), md = SIMD16<Float>(repeating: meanDy), mv = SIMD16<Float>(repeating: mu)
            let iv = SIMD16<Float>(repeating: inv), mx = SIMD16<Float>(repeating: meanDyXhat)
            while q + 16 <= count { store16(kv * (grad16(q) - md - (load16(x + q) - mv) * iv * mx), o + q); q += 16 }
            while q < count { o[q] = k * (grad(q) - meanDy - (x[q] - mu) * inv * meanDyXhat); q += 1 }
        } else {
            let kv = SIMD16<Float>(repeating: k)
            while q + 16 <= count { store16(kv * grad16(q), o + q); q += 16 }
            while q < count { o[q] = k * grad(q); q += 1 }
        }
    }
}

/// Layer normalisation over the last dimension (`width`) of `rows` rows.
public enum LayerNormKernel {
    public static func forward(x: UnsafePointer<Float>, rows: Int, width: Int, eps: Float,
                               gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                               mean: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>) {
        Parallel.forEach(rows, grain: 8) { r in
            for row in r {
                let p = x + row * width, o = y + row * width
                let mu = Reduce.sum(p, count: width) / Float(width)
                let v = Reduce.squaredDeviations(p, from: mu, count: width)
                let inv = 1 / (v / Float(width) + eps).squareRoot()
                mean[row] = mu; invStd[row] = inv
                for q in 0..<width { o[q] = (p[q] - mu) * inv * gamma[q] + beta[q] }
            }
        }
    }

    public static func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, width: Int,
                                mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                                dx: UnsafeMutablePointer<Float>?, dGamma: UnsafeMutablePointer<Float>?,
                                dBeta: UnsafeMutablePointer<Float>?) {
        if let dx {
            Parallel.forEach(rows, grain: 8) { r in
                for row in r {
                    let p = x + row * width, g = dy + row * width, o = dx + row * width
                    let mu = mean[row], inv = invStd[row]
                    var (a, b) = Reduce.weightedSumAndCentredDot(g, gamma, p, from: mu, count: width)
                    a /= Float(width); b *= inv / Float(width)
                    for q in 0..<width { o[q] = inv * (g[q] * gamma[q] - a - (p[q] - mu) * inv * b) }
                }
            }
        }
        if dGamma != nil || dBeta != nil {
            // Columns are independent: split the width across cores, each core walks all rows.
            Parallel.forEach(width, grain: 32) { r in
                for row in 0..<rows {
                    let p = x + row * width, g = dy + row * width
                    let mu = mean[row], inv = invStd[row]
                    if let dGamma { for q in r { dGamma[q] += g[q] * (p[q] - mu) * inv } }
                    if let dBeta { for q in r { dBeta[q] += g[q] } }
                }
            }
        }
    }
}

/// Softmax over the last dimension.
public enum SoftmaxKernel {
    /// One row, on the calling thread (for callers that already run one task per core).
    @inline(__always) public static func row(_ p: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, width: Int) {
        let mx = Reduce.max(p, count: width)
        for q in 0..<width { o[q] = fastExp(p[q] - mx) }
        let inv = 1 / Reduce.sum(o, count: width); for q in 0..<width { o[q] *= inv }
    }

    @inline(__always) public static func rowBackward(_ p: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>, width: Int) {
        let dot = Reduce.dot(p, g, count: width)
        for q in 0..<width { o[q] = p[q] * (g[q] - dot) }
    }

    public static func forward(x: UnsafePointer<Float>, rows: Int, width: Int, y: UnsafeMutablePointer<Float>) {
        Parallel.forEach(rows, grain: 16) { r in
            for r in r { row(x + r * width, y + r * width, width: width) }
        }
    }

    /// dx = y ⊙ (dy − ⟨dy, y⟩) per row.
    public static func backward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Int, width: Int,
                                dx: UnsafeMutablePointer<Float>) {
        Parallel.forEach(rows, grain: 16) { r in
            for r in r { rowBackward(y + r * width, dy + r * width, dx + r * width, width: width) }
        }
    }
}
