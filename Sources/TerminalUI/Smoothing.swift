extension LineChart {
    /// TensorBoard's debiased exponential moving average, for the "smoothed" curve drawn over a noisy one.
    ///
    /// `ema = s·ema + (1 − s)·v`, starting at 0, then divided by `1 − sⁿ` where n counts the finite values so
    /// far, which removes the pull towards 0 at the start. Non-finite values come out as NaN and leave the
    /// average alone. `smoothing` is clamped to 0 … 0.999 (at 1 the average would never move).
    public static func debiasedEMA(_ values: [Double], smoothing: Double) -> [Double] {
        let s = smoothing.isNaN ? 0 : min(max(smoothing, 0), 0.999)
        var ema = 0.0, weight = 1.0
        return values.map { value in
            guard value.isFinite else { return .nan }
            ema = s * ema + (1 - s) * value
            weight *= s
            return ema / (1 - weight)
        }
    }
}
