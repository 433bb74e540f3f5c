import Foundation
import WeightsIO

/// A run's folder — the contract between the engine and any viewer: `config.json`, `metrics.jsonl`
/// (append-only, one JSON event per line, flushed as it happens), `summary.json`, `confusion.json` and
/// `checkpoints/`. Everything but the log is written atomically.
public final class RunFolder {
    public let id: String
    public let path: String
    private let log: FileHandle

    /// Creates experiments/runs/<id>/ with a fresh id (time + name) and writes the config.
    public init(root: String, config: ExperimentConfig) throws {
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!,
                                                formatOptions: [.withYear, .withMonth, .withDay, .withTime])
        var candidate = "\(stamp)-\(config.name)", n = 1
        while FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent(candidate)) {
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

    /// `owner.pid` holds the process training in this folder while it does, so a viewer can tell a live run
    /// from one that was killed.
    var ownerFile: String { (path as NSString).appendingPathComponent("owner.pid") }
    func claim() throws { try writeAtomically(Data("\(getpid())\n".utf8), to: ownerFile) }
    func release() { try? FileManager.default.removeItem(atPath: ownerFile) }

    /// Appends one event line and flushes it, so a viewer tailing the file sees it at once.
    public func append(_ event: [String: Any]) throws {
        var data = try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])
        data.append(0x0A)
        try log.seekToEnd()
        try log.write(contentsOf: data)
        try log.synchronize()
    }

    public func writeJSON(_ object: Any, name: String) throws {
        try writeAtomically(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]),
                            to: (path as NSString).appendingPathComponent(name))
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

    func callAsFunction(_ event: TrainingEvent) {
        emit(event)
        do { try run.append(event.json) } catch { failure = failure ?? error }
    }

    func check() throws {
        if let failure { throw ExperimentError("\(run.path)/metrics.jsonl: could not append events (\(failure))") }
    }
}
