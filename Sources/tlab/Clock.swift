import Foundation

/// Monotonic seconds.
func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// Best wall time of `reps` runs of `body` after one warm-up run.
func bestTime(reps: Int, _ body: () -> Void) -> Double {
    body()
    var best = Double.infinity
    for _ in 0..<reps { let t0 = now(); body(); best = min(best, now() - t0) }
    return best
}

/// Peak resident set size of this process in MiB (Linux VmHWM).
func peakRSSMegabytes() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in s.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
        return kb / 1024
    }
    return 0
}

/// One JSON object per line, keys in the given order (stable output for scripts).
func jsonLine(_ pairs: [(String, Any)]) -> String {
    func encode(_ v: Any) -> String {
        switch v {
        case let s as String:
            let escaped = s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(escaped)\""
        case let d as Double: return d.isFinite ? String(format: "%.4g", d) : "null"
        case let f as Float: return encode(Double(f))
        case let i as Int: return String(i)
        case let b as Bool: return b ? "true" : "false"
        case let a as [Any]: return "[" + a.map(encode).joined(separator: ",") + "]"
        default: return "\"\(v)\""
        }
    }
    return "{" + pairs.map { "\"\($0.0)\":\(encode($0.1))" }.joined(separator: ",") + "}"
}
