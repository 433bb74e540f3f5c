import Engine
import Foundation

/// One row of the runs screen.
struct RunRow: Sendable, Equatable {
    var id: String, path: String
    var state: RunRecords.State
    var strategy: String, backbone: String, dataset: String
    var bestAccuracy: Double?, bestBinaryAccuracy: Double?
    var epochsDone: Int, epochs: Int
    var wallSeconds: Double?
    /// "epoch 3/8 step 12/61", "features 640/2624", or the failure reason.
    var detail: String
}

/// Everything the run screen shows of one run.
struct WatchedRun: Sendable {
    var id: String, path: String
    var config: ExperimentConfig
    var state: RunRecords.State
    var history: RunHistory
    /// The latest events worth reading, oldest first, as one line each.
    var log: [String]
}

enum WatcherMessage: Sendable {
    case runs([RunRow])
    case watched(WatchedRun)
    /// A launched `tlab train` named its run (its `started` or `resumed` line arrived).
    case launchStarted(RunLauncher.Launch, runID: String)
    /// A launched process ended; `error` is what it printed on stderr when it failed before training.
    case launchEnded(RunLauncher.Launch, status: Int32, error: String)
}

/// A background thread that tails run folders (incrementally, through `RunLogReader`) and posts what changed
/// to the UI's inbox; it never touches the terminal. It also reaps the `tlab train` children the workbench
/// started and reads their first output line to learn their run ids.
final class RunWatcher: @unchecked Sendable {
    let paths: ExperimentPaths
    let inbox: Inbox<WorkbenchMessage>
    private let lock = NSLock()
    private var watchedPaths: [String] = []
    private var launches: [RunLauncher.Launch] = []
    private var announced: Set<pid_t> = []
    private var stopped = false
    private var thread: Thread?

    private var readers: [String: RunLogReader] = [:]
    private var configs: [String: ExperimentConfig] = [:]
    private var watchedReaders: [String: (reader: RunLogReader, log: [String])] = [:]
    private var lastRows: [RunRow] = []
    private var lastListing = Date.distantPast

    init(paths: ExperimentPaths, inbox: Inbox<WorkbenchMessage>) { self.paths = paths; self.inbox = inbox }

    func start() {
        let t = Thread { [self] in loop() }
        t.name = "tlab.watcher"
        thread = t
        t.start()
    }

    func stop() { lock.lock(); stopped = true; lock.unlock() }

    /// The runs whose full histories the run and compare screens show.
    func watch(_ paths: [String]) { lock.lock(); watchedPaths = paths; lock.unlock() }
    func track(_ launch: RunLauncher.Launch) { lock.lock(); launches.append(launch); lock.unlock() }
    /// Lists runs again at the next tick (after a delete, say).
    func refresh() { lock.lock(); lastListing = .distantPast; lock.unlock() }

    private func loop() {
        while true {
            lock.lock(); let done = stopped; let paths = watchedPaths; let pending = launches; lock.unlock()
            if done { return }
            checkLaunches(pending)
            if Date().timeIntervalSince(lastListing) > 0.5 { listRuns(); lastListing = Date() }
            watchedReaders = watchedReaders.filter { paths.contains($0.key) }
            for path in paths { pollWatched(path) }
            usleep(200_000)
        }
    }

    private func listRuns() {
        let folders = RunRecords.list(root: paths.runs)
        var rows: [RunRow] = []
        for path in folders {
            let reader = readers[path] ?? RunLogReader(run: path)
            readers[path] = reader
            _ = try? reader.poll()
            if configs[path] == nil { configs[path] = try? RunRecords.config(path) }
            guard let config = configs[path] else { continue }
            let h = reader.history
            let state = RunRecords.state(path, history: h)
            let best = h.bestEpoch
            rows.append(RunRow(id: (path as NSString).lastPathComponent, path: path, state: state,
                               strategy: h.start?.strategy ?? Experiment.strategy(of: config).rawValue, backbone: config.backbone,
                               dataset: h.start?.dataset ?? config.dataset.kind.rawValue, bestAccuracy: best?.valAccuracy,
                               bestBinaryAccuracy: best?.valBinaryAccuracy, epochsDone: h.epochs.last?.epoch ?? 0, epochs: config.epochs,
                               wallSeconds: h.epochs.last.map { $0.elapsedSeconds + (h.featuresReady?.seconds ?? 0) }, detail: Self.detail(state: state, history: h, epochs: config.epochs)))
        }
        // Forget folders that went away (deleted).
        let present = Set(folders)
        readers = readers.filter { present.contains($0.key) }
        configs = configs.filter { present.contains($0.key) }
        if rows != lastRows { lastRows = rows; inbox.post(.watcher(.runs(rows))) }
    }

    static func detail(state: RunRecords.State, history h: RunHistory, epochs: Int) -> String {
        switch state {
        case .failed(let reason, _): return reason
        case .running, .paused:
            if let p = h.progress { return "\(p.phase) \(p.done)/\(p.total)" }
            if let s = h.lastStep, s.epoch > (h.epochs.last?.epoch ?? 0) { return "epoch \(s.epoch)/\(epochs) step \(s.epochStep)/\(s.stepsPerEpoch)" }
            return "epoch \(min((h.epochs.last?.epoch ?? 0) + 1, epochs))/\(epochs)"
        case .stopped:
            if case .stopped(let p) = h.ending { return "stopped in epoch \(p.epoch) at step \(p.epochStep); R resumes" }
            return "stopped after epoch \(h.epochs.last?.epoch ?? 0); R resumes"
        case .interrupted: return "killed after epoch \(h.epochs.last?.epoch ?? 0); R resumes"
        case .finished: return h.earlyStop.map { "early stop at epoch \($0.epoch)" } ?? ""
        }
    }

    private func pollWatched(_ path: String) {
        var w = watchedReaders[path] ?? (RunLogReader(run: path), [])
        let events = (try? w.reader.poll()) ?? []
        for e in events { EventLine.append(e, to: &w.log) }
        if w.log.count > 300 { w.log.removeFirst(w.log.count - 300) }
        watchedReaders[path] = w
        guard let config = configs[path] ?? (try? RunRecords.config(path)) else { return }
        let state = RunRecords.state(path, history: w.reader.history)
        inbox.post(.watcher(.watched(WatchedRun(id: (path as NSString).lastPathComponent, path: path, config: config, state: state,
                                                history: w.reader.history, log: w.log))))
    }

    private func checkLaunches(_ pending: [RunLauncher.Launch]) {
        for launch in pending {
            if !announced.contains(launch.pid), let text = try? String(contentsOfFile: launch.output, encoding: .utf8),
               let line = text.split(separator: "\n").first,
               let event = try? JSONLines.decoder().decode(TrainingEvent.self, from: Data(line.utf8)) {
                var id: String?
                if case .started(let s) = event { id = s.run }
                if case .resumed = event { id = (launch.description as NSString).lastPathComponent.replacingOccurrences(of: "resume ", with: "") }
                if let id { announced.insert(launch.pid); inbox.post(.watcher(.launchStarted(launch, runID: id))) }
            }
            var status: Int32 = 0
            if waitpid(launch.pid, &status, WNOHANG) == launch.pid {
                let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                let err = (try? String(contentsOfFile: launch.errors, encoding: .utf8)) ?? ""
                lock.lock(); launches.removeAll { $0.pid == launch.pid }; lock.unlock()
                inbox.post(.watcher(.launchEnded(launch, status: code, error: err.trimmingCharacters(in: .whitespacesAndNewlines))))
                for f in [launch.output, launch.errors, launch.output.replacingOccurrences(of: ".out", with: ".json")] {
                    try? FileManager.default.removeItem(atPath: f)
                }
                listRuns(); lastListing = Date()
            }
        }
    }
}

/// One line of the run screen's event pane per event worth reading.
enum EventLine {
    /// Adds `e` to the pane's lines. Long runs log only every 10th epoch and the new bests (marked "best"), so
    /// the pane keeps what matters.
    static func append(_ e: TrainingEvent, to log: inout [String]) {
        switch e {
        case .epoch(let x) where x.epochs > 20 && x.epoch % 10 != 0 && x.epoch != 1 && x.epoch != x.epochs:
            if let last = log.last, last.hasSuffix(" ·") { log.removeLast() }
            log.append(format(e)! + " ·")  // provisional: kept only if it becomes the best
        case .checkpoint(let c) where c.name == "best":
            if let last = log.last, last.hasPrefix("epoch \(c.epoch) ") { log[log.count - 1] = String(last.dropLast(last.hasSuffix(" ·") ? 2 : 0)) + "  best" }
        default:
            guard let line = format(e) else { return }
            if let last = log.last, last.hasSuffix(" ·") { log.removeLast() }
            log.append(line)
        }
    }

    static func format(_ e: TrainingEvent) -> String? {
        func pct(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }
        switch e {
        case .started(let s): return "started \(s.strategy): \(s.train) train / \(s.validation) val"
        case .featuresReady(let f): return f.cacheHit ? "features from cache" : String(format: "features computed in %.0fs", f.seconds)
        case .resumed(let p): return "resumed at epoch \(p.epoch)"
        case .epoch(let x): return "epoch \(x.epoch)  val \(pct(x.valAccuracy))"
        case .unfroze(let u): return "epoch \(u.epoch): unfroze \(u.groups.joined(separator: ", "))"
        case .checkpoint(let c) where c.name == "best": return "saved best (epoch \(c.epoch))"
        case .paused: return "paused"
        case .continued: return "continued"
        case .stopped(let p): return "stopped in epoch \(p.epoch) (checkpoint saved)"
        case .earlyStop(let s): return "early stop: best was epoch \(s.bestEpoch)"
        case .failed(let f): return "FAILED: \(f.reason)"
        case .summary(let s): return "finished: best \(pct(s.valAccuracy)) at epoch \(s.bestEpoch)"
        default: return nil
        }
    }
}
