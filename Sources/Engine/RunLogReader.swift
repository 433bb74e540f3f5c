import Foundation

/// A run as its log tells it, folded from events in order: what `tlab runs`, `compare`, the tests and the
/// workbench all read. Epochs and steps that a resume repeats are replaced (the last copy wins), so the
/// history reads like one uninterrupted run.
public struct RunHistory: Sendable, Equatable {
    public var start: TrainingEvent.Start?
    /// Completed epochs in order, one per epoch number.
    public var epochs: [TrainingEvent.Epoch] = []
    /// Loss of every optimiser step, by global step (1-based), for the step-loss chart.
    public var stepLosses: [StepLoss] = []
    public var lastStep: TrainingEvent.Step?
    /// The pre-training pass (features or frozen prefix) while it runs, nil once it is done.
    public var progress: TrainingEvent.Progress?
    public var featuresReady: TrainingEvent.FeaturesReady?
    /// Epochs (1-based) at whose start groups were unfrozen, with the groups.
    public var unfreezes: [TrainingEvent.Unfroze] = []
    public var isPaused = false
    public var earlyStop: TrainingEvent.EarlyStop?
    /// The event that closed the latest session of the run: `stopped`, `failed` or `summary`; nil while it
    /// trains (or when it was killed).
    public var ending: TrainingEvent?
    public var resumes = 0
    /// Events applied so far.
    public var eventCount = 0

    public struct StepLoss: Sendable, Equatable {
        public var step: Int
        public var loss: Double
        public init(step: Int, loss: Double) { self.step = step; self.loss = loss }
    }

    public init() {}

    /// The epoch with the lowest validation loss (the `best` checkpoint's), if any.
    public var bestEpoch: TrainingEvent.Epoch? {
        epochs.min { a, b in a.valLoss.isNaN ? false : b.valLoss.isNaN ? true : a.valLoss < b.valLoss }
    }
    public var lastEpoch: TrainingEvent.Epoch? { epochs.last }

    /// Images per second through the backbone, the number a comparison of cost wants. A feature-extraction
    /// run's epochs train a head on cached features (100 000 img/s says nothing), so its speed is the feature
    /// pass's, or nothing when the features came from the cache; other runs average their epochs.
    public enum Throughput: Sendable, Equatable {
        case featuresCached
        case featurePass(imagesPerSecond: Double)
        case training(imagesPerSecond: Double)

        public var imagesPerSecond: Double? {
            switch self { case .featuresCached: nil; case .featurePass(let v), .training(let v): v }
        }
        public var text: String {
            switch self {
            case .featuresCached: "features cached"
            case .featurePass(let v): String(format: "%.1f (features)", v)
            case .training(let v): String(format: "%.1f", v)
            }
        }
    }

    public var throughput: Throughput? {
        if start?.strategy == "feature-extraction" {
            guard let f = featuresReady, let n = start.map({ $0.train + $0.validation }) else { return nil }
            return f.cacheHit ? .featuresCached : .featurePass(imagesPerSecond: Double(n) / max(f.seconds, 1e-9))
        }
        guard !epochs.isEmpty else { return nil }
        return .training(imagesPerSecond: epochs.map(\.imagesPerSecond).reduce(0, +) / Double(epochs.count))
    }
    public var isFinished: Bool { if case .summary = ending { true } else { false } }

    public mutating func apply(_ event: TrainingEvent) {
        eventCount += 1
        switch event {
        case .started(let s): start = s
        case .progress(let p): progress = p
        case .featuresReady(let f): featuresReady = f; progress = nil
        case .resumed(let p):
            // Everything after the checkpoint is repeated by this session.
            resumes += 1
            ending = nil; isPaused = false
            epochs.removeAll { $0.epoch >= p.epoch }
            stepLosses.removeAll { $0.step > p.step }
            unfreezes.removeAll { $0.epoch >= p.epoch }
        case .step(let s):
            lastStep = s
            progress = nil
            while let last = stepLosses.last, last.step >= s.step { stepLosses.removeLast() }
            stepLosses.append(StepLoss(step: s.step, loss: s.loss))
        case .epoch(let e):
            if let i = epochs.firstIndex(where: { $0.epoch >= e.epoch }) { epochs.removeSubrange(i...) }
            epochs.append(e)
        case .unfroze(let u):
            unfreezes.removeAll { $0.epoch >= u.epoch }
            unfreezes.append(u)
        case .checkpoint: break
        case .paused: isPaused = true
        case .continued: isPaused = false
        case .earlyStop(let e): earlyStop = e
        case .stopped, .failed, .summary: ending = event; isPaused = false; progress = nil
        }
    }
}

/// Reads a run's metrics.jsonl incrementally: each `poll()` reads only the bytes appended since the last one,
/// returns the complete new events in order and folds them into `history`. A last line without its newline
/// (a writer mid-append, or one killed there) is held back until it is complete. Safe to use on a file
/// another process is appending to.
public final class RunLogReader {
    public let path: String
    /// Bytes consumed so far (up to the end of the last complete line).
    public private(set) var offset: UInt64 = 0
    public private(set) var history = RunHistory()
    private var pending = Data()

    /// `run` is a run folder or its metrics.jsonl.
    public init(run: String) {
        path = run.hasSuffix(".jsonl") ? run : (run as NSString).appendingPathComponent("metrics.jsonl")
    }

    public struct ReadError: Error, CustomStringConvertible {
        public let description: String
    }

    /// New complete events since the last call (empty when nothing was appended or the file does not exist yet).
    @discardableResult
    public func poll() throws -> [TrainingEvent] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        if size < offset {
            // The file was cut (a resume drops a torn last line): read it again from the start.
            offset = 0; pending = Data(); history = RunHistory()
        }
        guard size > offset else { return [] }
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: Int(size - offset)) ?? Data()
        offset += UInt64(data.count)
        pending.append(data)
        guard let lastNewline = pending.lastIndex(of: 0x0A) else { return [] }
        let complete = pending[pending.startIndex...lastNewline]
        let rest = pending[(lastNewline + 1)...]
        var events: [TrainingEvent] = []
        let decoder = JSONLines.decoder()
        var lineNumber = history.eventCount
        for line in complete.split(separator: 0x0A, omittingEmptySubsequences: true) {
            lineNumber += 1
            let event: TrainingEvent
            do { event = try decoder.decode(TrainingEvent.self, from: Data(line)) } catch {
                throw ReadError(description: "\(path): line \(lineNumber) is not a tlab event (\(Self.describe(error)))")
            }
            if case .started(let s) = event, s.version > TrainingEvent.formatVersion {
                throw ReadError(description: "\(path): written by a newer tlab (log format \(s.version), this one reads \(TrainingEvent.formatVersion))")
            }
            history.apply(event)
            events.append(event)
        }
        pending = Data(rest)
        return events
    }

    /// The whole log of a run folder, folded.
    public static func history(of run: String) throws -> RunHistory {
        let r = RunLogReader(run: run)
        try r.poll()
        return r.history
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx), DecodingError.dataCorrupted(let ctx):
            return ctx.debugDescription
        default: return "\(error)"
        }
    }
}
