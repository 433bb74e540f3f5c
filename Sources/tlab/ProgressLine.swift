import Engine
import Foundation

/// "6m12s"-style durations for progress lines.
func duration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "—" }
    let s = Int(seconds.rounded())
    return s >= 3600 ? "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m" : s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
}

/// One line on a terminal that is rewritten in place (phase, done/total, img/s, ETA); nothing when stdout is not
/// a terminal, so logs and pipes get only whole lines. `train`, `features` and `eval` show one, never with --json.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    private var shown = false
    private var lastDraw = Date.distantPast
    init(enabled: Bool) { self.enabled = enabled }

    /// Shown only on a terminal and without --json.
    convenience init(json: Bool) { self.init(enabled: !json && isatty(STDOUT_FILENO) == 1) }

    /// A pass over images: "features 640/2624  41.3 img/s  ETA 48s".
    func show(_ p: TrainingEvent.Progress) {
        show(String(format: "%@ %d/%d  %.1f img/s  ETA %@", p.phase, p.done, p.total, p.imagesPerSecond, duration(p.etaSeconds)))
    }

    func show(_ text: String) {
        guard enabled, Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        print("\r\u{1B}[2K" + text, terminator: ""); fflush(stdout)
        shown = true
    }

    func clear() {
        guard enabled, shown else { return }
        print("\r\u{1B}[2K", terminator: ""); fflush(stdout)
        shown = false
    }
}
