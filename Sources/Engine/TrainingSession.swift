import Foundation

/// A run on a background thread: the caller (the workbench, the CLI) gets every event as it happens and can
/// pause, continue or stop it. Events arrive on the training thread; `onEvent` must hand them over itself.
public final class TrainingSession: @unchecked Sendable {
    public enum Job: Sendable {
        case start(ExperimentConfig)
        /// Continue the run folder at this path.
        case resume(String)
    }

    public let control = TrainingControl()
    private let job: Job
    private let paths: ExperimentPaths
    private let finished = DispatchSemaphore(value: 0)
    private var result: Result<Experiment.Outcome, Error>?
    private var thread: Thread?

    public init(_ job: Job, paths: ExperimentPaths = ExperimentPaths()) { self.job = job; self.paths = paths }

    public func start(onEvent: @escaping (TrainingEvent) -> Void) {
        precondition(thread == nil, "a session runs once")
        let t = Thread { [self] in
            result = Result {
                switch job {
                case .start(let c): return try Experiment.run(c, workspace: paths, control: control, emit: onEvent)
                case .resume(let path): return try Experiment.resume(path, workspace: paths, control: control, emit: onEvent)
                }
            }
            finished.signal()
        }
        t.name = "tlab.trainer"
        t.stackSize = 16 << 20
        thread = t
        t.start()
    }

    public func pause() { control.pause() }
    public func resume() { control.resume() }
    /// Asks the run to stop after its current step; it writes a checkpoint `--resume` continues from.
    public func stop() { control.stop() }

    /// Blocks until the run ends.
    public func wait() -> Result<Experiment.Outcome, Error> {
        finished.wait()
        finished.signal()
        return result!
    }

    /// True once the run has ended (finished, stopped or failed).
    public var isDone: Bool {
        if finished.wait(timeout: .now()) == .success { finished.signal(); return true }
        return false
    }
}
