import Foundation

/// A run on a background thread: the caller (the CLI, a test) gets every event as it happens, can pause,
/// continue or stop it, and is called once when it ends. Events and the end arrive on the training thread;
/// the callbacks must hand them over themselves.
public final class TrainingSession: @unchecked Sendable {
    public enum Job: Sendable {
        case start(ExperimentConfig)
        /// Continue the run folder at this path from its last checkpoint.
        case resume(String)
    }

    public let control = TrainingControl()
    private let job: Job
    private let paths: ExperimentPaths
    private let finished = DispatchSemaphore(value: 0)
    private var result: Result<Experiment.Outcome, Error>?
    private var thread: Thread?

    public init(_ job: Job, paths: ExperimentPaths = ExperimentPaths()) { self.job = job; self.paths = paths }

    /// Starts the run; `onEvent` gets every event, `onEnd` the outcome once the run has ended (its terminal
    /// event is written by then).
    public func start(onEvent: @escaping (TrainingEvent) -> Void, onEnd: @escaping (Result<Experiment.Outcome, Error>) -> Void = { _ in }) {
        precondition(thread == nil, "a session runs once")
        let t = Thread { [self] in
            let r = Result {
                switch job {
                case .start(let c): return try Experiment.run(c, paths: paths, control: control, emit: onEvent)
                case .resume(let path): return try Experiment.resume(path, paths: paths, control: control, emit: onEvent)
                }
            }
            result = r
            onEnd(r)
            finished.signal()
        }
        t.name = "tlab.trainer"
        t.stackSize = 16 << 20
        thread = t
        t.start()
    }

    public func pause() { control.pause() }
    public func `continue`() { control.continue() }
    /// Asks the run to stop after its current step; it writes a checkpoint `--resume` continues from.
    public func stop() { control.stop() }

    /// Blocks until the run ends.
    public func wait() -> Result<Experiment.Outcome, Error> {
        finished.wait()
        finished.signal()
        return result!
    }
}
