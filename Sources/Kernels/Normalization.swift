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
        // (whose forward wrote `output`): each channel's dy is masked into scratch first — the same values
        // the activation's own backward would pass on, without writing them to a tensor of their own.
        let scratchPerThread = clamped == nil ? 0 : n * s
        let threads = min(Parallel.cores, c)
        Workspace.shared.with(scratchPerThread * threads + 1) { scratch in
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                let masked = scratch + scratchPerThread * t
                for ch in c * t / threads..<c * (t + 1) / threads {
                    let mu = mean[ch], inv = invStd[ch]
                    // This channel's gradient in image i is grad + i · imageStride: dy's own planes, or their masked copy.
                    var grad = dy + ch * s, imageStride = c * s
                    if let clamped {
                        for i in 0..<n {
                            Activation.backward(clamp: clamped.clamp, y: clamped.output + (i * c + ch) * s, dy: grad + i * imageStride,
                                                dx: masked + i * s, count: s, serial: true)
                        }
                        grad = UnsafePointer(masked); imageStride = s
                    }
                    var sumDy = 0.0, sumDyXhat = 0.0
                    for i in 0..<n {
                        let (a, b) = Reduce.sumAndCentredDot(grad + i * imageStride, x + (i * c + ch) * s, from: mu, count: s)
                        sumDy += Double(a); sumDyXhat += Double(b)
                    }
                    let sDy = Float(sumDy), sDyXhat = Float(sumDyXhat) * inv
                    dGamma?[ch] += sDyXhat
                    dBeta?[ch] += sDy
                    guard let dx else { continue }
                    let k = gamma[ch] * inv
                    for i in 0..<n {
                        let p = x + (i * c + ch) * s, g = grad + i * imageStride, o = dx + (i * c + ch) * s
                        if batchStatistics {
                            let meanDy = sDy / m, meanDyXhat = sDyXhat / m
                            for q in 0..<s { o[q] = k * (g[q] - meanDy - (p[q] - mu) * inv * meanDyXhat) }
                        } else {
                            for q in 0..<s { o[q] = k * g[q] }
                        }
                    }
                }
            }
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
