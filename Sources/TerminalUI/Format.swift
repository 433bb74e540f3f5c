import Foundation

// Compact number formatting shared by tables, charts and status lines. Non-finite inputs become the dash
// glyph ("—") so that a missing metric never prints as "nan".

/// A duration as "45s", "6m12s", "1h03m" or "2d04h" (rounded to the second, negative as 0).
public func formatDuration(_ seconds: Double, glyphs: Glyphs = .unicode) -> String {
    guard seconds.isFinite else { return String(glyphs.dash) }
    let total = Int(min(max(seconds, 0), 1e12).rounded())
    func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    switch total {
    case ..<60: return "\(total)s"
    case ..<3600: return "\(total / 60)m\(pad(total % 60))s"
    case ..<86400: return "\(total / 3600)h\(pad(total % 3600 / 60))m"
    default: return "\(total / 86400)d\(pad(total % 86400 / 3600))h"
    }
}

/// A count as "812", "5.1K", "11.7M", "512K", "2.0B": one decimal below 100 of a unit, none above.
public func formatCount(_ n: Int) -> String {
    let magnitude = Double(n.magnitude)
    guard magnitude >= 1000 else { return "\(n)" }
    let sign = n < 0 ? "-" : ""
    for (scale, suffix) in [(1e3, "K"), (1e6, "M"), (1e9, "B"), (1e12, "T")] {
        let value = magnitude / scale
        let tenths = Int((value * 10).rounded())
        if tenths < 1000 { return "\(sign)\(tenths / 10).\(tenths % 10)\(suffix)" }
        let whole = Int(value.rounded())
        if whole < 1000 || suffix == "T" { return "\(sign)\(whole)\(suffix)" }
    }
    return "\(n)"
}

/// A learning rate the way a user types it: "1e-3", "2.5e-4", "1e-2" (for 0.01), "0.1", "3".
///
/// Uses the shortest digits that parse back to the same value, in scientific notation outside 0.1 ..< 10 000.
/// The optimisers keep learning rates as Float, so a value that is exactly a Float gets Float's shortest
/// digits: `Double(Float(1e-3))` shows as "1e-3" (which parses back to the same Float), not as
/// "1.0000000474974513e-3". Other values parse back to the same Double.
public func formatRate(_ x: Double, glyphs: Glyphs = .unicode) -> String {
    guard x.isFinite else { return String(glyphs.dash) }
    let float = Float(x)
    let shortest = Double(float) == x ? float.magnitude.description : x.magnitude.description
    return formatRate(shortestDescription: shortest, negative: x < 0)
}

/// Rewrites Swift's shortest round-trip description of a non-negative number in the learning-rate style.
private func formatRate(shortestDescription text: String, negative: Bool) -> String {
    let (digits, exponent) = significantDigits(text)
    guard digits != "0" else { return "0" }
    let sign = negative ? "-" : ""
    if (-1...3).contains(exponent) {
        if exponent < 0 { return sign + "0." + digits }
        let padded = digits.padding(toLength: max(digits.count, exponent + 1), withPad: "0", startingAt: 0)
        let whole = padded.prefix(exponent + 1), fraction = padded.dropFirst(exponent + 1)
        return sign + whole + (fraction.isEmpty ? "" : "." + fraction)
    }
    let mantissa = digits.count > 1 ? "\(digits.first!).\(digits.dropFirst())" : digits
    return "\(sign)\(mantissa)e\(exponent)"
}

/// A fraction as a percentage with `digits` decimals and no space: 0.762 → "76.2%".
public func formatPercent(_ x: Double, digits: Int = 1, glyphs: Glyphs = .unicode) -> String {
    guard x.isFinite else { return String(glyphs.dash) }
    return String(format: "%.\(max(0, digits))f%%", x * 100 + 0.0)
}

/// A compact axis label for `x` on an axis whose ticks are `span` apart (the spacing sets the precision):
/// ".80", "1.1", "120", "2e-3", "2.5e-4", "15K".
public func formatTick(_ x: Double, span: Double) -> String {
    guard x.isFinite else { return "" }
    let step = span.isFinite && span != 0 ? abs(span) : max(abs(x), 1)
    if abs(x) < step * 1e-6 { return "0" }
    let magnitude = abs(x)
    // Thousands get a suffix when the ticks are a thousand or more apart, so an axis reads "0 5K 10K 15K".
    if step >= 1000 || magnitude >= 100_000 {
        let (scale, suffix) = magnitude >= 1e9 ? (1e9, "B") : magnitude >= 1e6 ? (1e6, "M") : (1e3, "K")
        let decimals = min(3, max(decimalsNeeded(step / scale), decimalsNeeded(x / scale)))
        return String(format: "%.\(decimals)f", x / scale) + suffix
    }
    if magnitude < 0.01 {
        let exponent = Int(floor(log10(magnitude)))
        let scale = pow(10, Double(exponent))
        var mantissa = String(format: "%.\(min(3, decimalsNeeded(step / scale)))f", x / scale)
        if mantissa.contains(".") {
            while mantissa.hasSuffix("0") { mantissa.removeLast() }
            if mantissa.hasSuffix(".") { mantissa.removeLast() }
        }
        return "\(mantissa)e\(exponent)"
    }
    let fixed = String(format: "%.\(decimalsNeeded(step))f", x)
    if fixed.hasPrefix("0.") { return String(fixed.dropFirst()) }
    if fixed.hasPrefix("-0.") { return "-" + fixed.dropFirst(2) }
    return fixed
}

/// The fewest decimals (at most 8) that show a multiple of `step` exactly.
private func decimalsNeeded(_ step: Double) -> Int {
    var scaled = abs(step)
    for decimals in 0...8 {
        if abs(scaled - scaled.rounded()) <= 1e-6 * max(1, scaled) { return decimals }
        scaled *= 10
    }
    return 8
}

/// The significant digits ("25") and the decimal exponent of the first one (-4) in a number's description
/// such as "0.00025", "2.5e-05" or "100.0".
private func significantDigits(_ description: String) -> (digits: String, exponent: Int) {
    let parts = description.lowercased().split(separator: "e")
    let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
    let mantissa = parts[0].split(separator: ".", omittingEmptySubsequences: false)
    let whole = String(mantissa[0]), fraction = mantissa.count > 1 ? String(mantissa[1]) : ""
    let all = whole + fraction
    let leadingZeros = all.prefix { $0 == "0" }.count
    var digits = String(all.dropFirst(leadingZeros))
    while digits.hasSuffix("0") { digits.removeLast() }
    return (digits.isEmpty ? "0" : digits, whole.count - 1 - leadingZeros + exponent)
}
