import Foundation

/// Pause, continue and stop for a run on another thread. The trainer calls `shouldStop()` between steps: it
/// blocks while paused and says whether to stop. Safe to call from any thread.
public final class TrainingControl: @unchecked Sendable {
    private let condition = NSCondition()
    private var pauseRequested = false
    private var stopRequested = false

    public init() {}

    public func pause() { condition.lock(); pauseRequested = true; condition.unlock() }
    /// Un-pauses (a paused run continues from the step it paused at; `--resume` is for checkpoints).
    public func `continue`() { condition.lock(); pauseRequested = false; condition.broadcast(); condition.unlock() }
    /// Ends the run after the current step, writing a `last` checkpoint to resume from.
    public func stop() { condition.lock(); stopRequested = true; condition.broadcast(); condition.unlock() }

    public var isPaused: Bool { condition.lock(); defer { condition.unlock() }; return pauseRequested }
    public var isStopRequested: Bool { condition.lock(); defer { condition.unlock() }; return stopRequested }

    /// True when the run should stop now. While paused, calls `onPause` once, waits, then `onContinue`.
    func shouldStop(onPause: () -> Void = {}, onContinue: () -> Void = {}) -> Bool {
        condition.lock()
        if pauseRequested && !stopRequested {
            condition.unlock(); onPause(); condition.lock()
            while pauseRequested && !stopRequested { condition.wait() }
            let stop = stopRequested
            condition.unlock()
            if !stop { onContinue() }
            return stop
        }
        defer { condition.unlock() }
        return stopRequested
    }
}
