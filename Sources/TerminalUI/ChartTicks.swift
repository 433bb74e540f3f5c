import Foundation

/// Axis ticks at "nice" values (1, 2, 2.5 or 5 times a power of ten) inside a range.
struct ChartTicks: Equatable {
    var values: [Double]
    /// Distance between neighbouring ticks; sets the label precision.
    var step: Double

    /// As many ticks as possible, but at most `maxCount`; with `integral`, only whole-number steps
    /// (epochs and steps should not get a tick at 2.5).
    init(range: ClosedRange<Double>, maxCount: Int, integral: Bool = false) {
        let lower = range.lowerBound, upper = range.upperBound, span = upper - lower
        guard span > 0, span.isFinite, maxCount >= 1 else {
            values = [lower]
            step = 1
            return
        }
        var exponent = Int(floor(log10(span / Double(maxCount)))) - 1
        while true {
            let scale = pow(10, Double(exponent))
            for multiple in [1, 2, 2.5, 5] {
                let step = multiple * scale
                if integral, step < 1 || step != step.rounded() { continue }
                // Far from the origin the tick indices would not fit an Int; show the ends instead.
                guard abs(lower / step) < 1e15, abs(upper / step) < 1e15 else {
                    values = [lower, upper]
                    self.step = span
                    return
                }
                let first = Int(ceil(lower / step - 1e-9)), last = Int(floor(upper / step + 1e-9))
                if last - first + 1 <= maxCount {
                    values = (first...max(first, last)).map { Double($0) * step }.filter { range.contains($0) }
                    self.step = step
                    return
                }
            }
            exponent += 1
        }
    }
}
