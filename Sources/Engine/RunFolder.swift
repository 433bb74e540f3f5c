import Foundation
import WeightsIO

/// A run's folder — the contract between the engine and any viewer: `config.json`, `metrics.jsonl`
/// (append-only, one JSON event per line, flushed as it happens), `summary.json`, `confusion.json` and
/// `checkpoints/`. Everything but the log is written atomically.
public final class RunFolder {
    public let id: String
    public let path: String
    private let log: FileHandle

    /// Creates `root/<id>/` with a fresh id (UTC time + name) and writes the config. The folder is created
    /// exclusively (mkdir fails if it exists), so runs started in the same second never share one: each tries
    /// the next suffix until its own mkdir succeeds.
    public init(root: String, config: ExperimentConfig) throws {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!,
                                                formatOptions: [.withYear, .withMonth, .withDay, .withTime])
        do { try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true) }
        catch { throw ExperimentError("\(root): cannot create the runs folder (\(describeFileError(error)))") }
        var n = 1, candidate = "\(stamp)-\(config.name)"
        while mkdir((root as NSString).appendingPathComponent(candidate), 0o755) != 0 {
            guard errno == EEXIST, n < 10_000 else {
                throw ExperimentError("\((root as NSString).appendingPathComponent(candidate)): cannot create the run folder (\(String(cString: strerror(errno))))")
            }
            n += 1; candidate = "\(stamp)-\(config.name)-\(n)"
        }
        id = candidate
        path = (root as NSString).appendingPathComponent(id)
        try FileManager.default.createDirectory(atPath: (path as NSString).appendingPathComponent("checkpoints"), withIntermediateDirectories: true)
        try writeAtomically(try config.encoded(), to: (path as NSString).appendingPathComponent("config.json"))
        let logPath = (path as NSString).appendingPathComponent("metrics.jsonl")
        FileManager.default.createFile(atPath: logPath, contents: nil)
        log = try Self.openLog(logPath)
    }

    /// An existing run folder, to resume: its log is appended to, never rewritten — except that a last line
    /// torn by a kill or a full disk (no final newline) is cut off, so every line stays one whole event.
    public init(existing path: String) throws {
        self.path = path
        id = (path as NSString).lastPathComponent
        let logPath = (path as NSString).appendingPathComponent("metrics.jsonl")
        log = try Self.openLog(logPath)
        let content = try Data(contentsOf: URL(fileURLWithPath: logPath))
        if let last = content.last, last != 0x0A {
            try log.truncate(atOffset: UInt64((content.lastIndex(of: 0x0A) ?? -1) + 1))
        }
    }

    private static func openLog(_ logPath: String) throws -> FileHandle {
        guard let h = FileHandle(forWritingAtPath: logPath) else { throw ExperimentError("\(logPath): cannot open for appending") }
        return h
    }

    deinit { try? log.close() }

    /// While a process trains in this folder it holds an exclusive lock on `.lock` and names itself in
    /// `owner.pid` (see `RunOwner`), so a second `--resume` of the same run is refused and a viewer can tell a
    /// live run from one that was killed. The kernel drops the lock when the process dies, however it dies.
    private var lockDescriptor: Int32 = -1
    /// The folder is claimed by another live process.
    public struct Busy: Error, CustomStringConvertible { public let description: String }
    func claim() throws {
        let lockPath = (path as NSString).appendingPathComponent(".lock")
        let fd = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ExperimentError("\(lockPath): cannot open (\(String(cString: strerror(errno))))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            let owner = RunOwner.livePID(path).map { "process \($0)" } ?? "another process"
            throw Busy(description: "run \(id) is being trained by \(owner); it cannot be resumed twice at once")
        }
        lockDescriptor = fd
        try writeAtomically(Data(RunOwner.record().utf8), to: RunOwner.file(path))
    }
    /// Removes checkpoint temporaries (`NAME.tmp-PID`, see `AtomicFileWriter`) left by processes that died
    /// mid-write. Called by the folder's owner, so no live process can be writing one.
    func removeStaleTemporaries() {
        let dir = (path as NSString).appendingPathComponent("checkpoints")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard let r = name.range(of: ".tmp-", options: .backwards), let pid = Int32(name[r.upperBound...]), pid != getpid() else { continue }
            try? FileManager.default.removeItem(atPath: (dir as NSString).appendingPathComponent(name))
        }
    }

    func release() {
        try? FileManager.default.removeItem(atPath: RunOwner.file(path))
        if lockDescriptor >= 0 { flock(lockDescriptor, LOCK_UN); close(lockDescriptor); lockDescriptor = -1 }
    }

    /// Appends one event line and flushes it, so a viewer tailing the file sees it at once.
    public func append(_ event: TrainingEvent) throws {
        var data = try JSONLines.encode(event)
        data.append(0x0A)
        try log.seekToEnd()
        try log.write(contentsOf: data)
        try log.synchronize()
    }

    /// Writes one of the run's record files (summary.json, validation.json …) atomically.
    public func write<T: Encodable>(_ value: T, name: String) throws {
        try writeAtomically(try JSONLines.encoder(pretty: true).encode(value), to: (path as NSString).appendingPathComponent(name))
    }

    public func checkpointPath(_ name: String) -> String {
        ((path as NSString).appendingPathComponent("checkpoints") as NSString).appendingPathComponent("\(name).safetensors")
    }
}

/// Sends events to a callback and appends them to a run's metrics.jsonl. Training goes on if an append fails
/// (the run folder's other files are still written atomically); the first failure is kept and `check()`
/// turns it into an error naming the file, so a full disk never passes unnoticed.
public final class RunLog {
    let run: RunFolder
    let emit: (TrainingEvent) -> Void
    private(set) var failure: Error?

    init(run: RunFolder, emit: @escaping (TrainingEvent) -> Void) { self.run = run; self.emit = emit }

    /// Whether a terminal event (`stopped`, `failed`, `summary`) has been logged in this session.
    private(set) var ended = false

    /// The epoch in progress, for a `failed` event raised outside the trainer.
    private(set) var epochInProgress: Int?

    func callAsFunction(_ event: TrainingEvent) {
        switch event {
        case .step(let s): epochInProgress = s.epoch
        case .epoch(let e): epochInProgress = min(e.epoch + 1, e.epochs)
        case .resumed(let p): epochInProgress = p.epoch
        default: break
        }
        if event.isTerminal {
            // Exactly one terminal event per session.
            guard !ended else { return }
            ended = true
        }
        emit(event)
        do { try run.append(event) } catch { failure = failure ?? error }
    }

    func check() throws {
        if let failure { throw ExperimentError("\(run.path)/metrics.jsonl: could not append events (\(failure))") }
    }
}

/// A Foundation file error as one line naming the cause, not `Error Domain=NSCocoaErrorDomain Code=642 …`.
public func describeFileError(_ error: Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if ns.domain == NSCocoaErrorDomain {
        switch ns.code {
        case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or folder"
        case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: return "permission denied"
        case NSFileWriteOutOfSpaceError: return "no space left on device"
        case NSFileWriteVolumeReadOnlyError: return "read-only file system"
        case NSFileWriteFileExistsError: return "a file is in the way"
        default: break
        }
    }
    if ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain { return ns.localizedDescription }
    return "\(error)"
}
