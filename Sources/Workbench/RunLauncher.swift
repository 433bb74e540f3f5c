import CNCursesW
import Engine
import Foundation

/// Starts training runs as `tlab train` processes of their own, in a session of their own, and controls them
/// with signals. The workbench only watches their run folders, exactly as it watches a run started by hand
/// in another terminal, so quitting (or crashing) the workbench never touches a run.
struct RunLauncher {
    let paths: ExperimentPaths

    /// A child started by this workbench: until its `started` event names the run, its output file is how
    /// the watcher finds the run id, and its error file says why it ended early.
    struct Launch: Sendable, Equatable {
        let pid: pid_t
        let output: String, errors: String
        let description: String
    }

    var launchFolder: String { (paths.runs as NSString).appendingPathComponent(".launch") }

    /// The tlab executable this process runs from.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Writes `config` next to the launch files and starts `tlab train --config` on it.
    func start(_ config: ExperimentConfig) throws -> Launch {
        try FileManager.default.createDirectory(atPath: launchFolder, withIntermediateDirectories: true)
        let stem = (launchFolder as NSString).appendingPathComponent("\(Int(Date().timeIntervalSince1970 * 1000))-\(getpid())")
        try config.encoded().write(to: URL(fileURLWithPath: stem + ".json"), options: .atomic)
        return try spawn(["train", "--config", stem + ".json"], stem: stem, description: "start \(config.name)")
    }

    /// Continues a stopped or killed run from its last checkpoint.
    func resume(runID: String) throws -> Launch {
        try FileManager.default.createDirectory(atPath: launchFolder, withIntermediateDirectories: true)
        let stem = (launchFolder as NSString).appendingPathComponent("\(Int(Date().timeIntervalSince1970 * 1000))-\(getpid())")
        return try spawn(["train", "--resume", runID], stem: stem, description: "resume \(runID)", cache: false)
    }

    /// `cache: false` for a resume, which uses the cache its run started with.
    private func spawn(_ arguments: [String], stem: String, description: String, cache: Bool = true) throws -> Launch {
        let argv = [Self.executable] + arguments + ["--runs", paths.runs] + (cache ? ["--cache", paths.cache] : []) + ["--json"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stem + ".out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stem + ".err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own session: the terminal's Ctrl-C and hang-up never reach it. Default signal handling, whatever
        // the workbench set for itself.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE, SIGTSTP, SIGWINCH] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(tlab_spawn_setsid_flag()) | Int16(POSIX_SPAWN_SETSIGDEF) | Int16(POSIX_SPAWN_SETSIGMASK))
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let r = posix_spawn(&pid, argv[0], &actions, &attributes, &cArgs, environ)
        guard r == 0 else { throw ExperimentError("cannot start \(argv[0]): \(String(cString: strerror(r)))") }
        return Launch(pid: pid, output: stem + ".out", errors: stem + ".err", description: description)
    }

    /// Pause (SIGUSR1), continue (SIGUSR2) or stop with a checkpoint (SIGTERM) the process training `run`.
    enum Control { case pause, `continue`, stop }
    static func send(_ control: Control, to run: String) -> String? {
        guard let pid = RunOwner.livePID(run) else { return "the run is not training any more" }
        let sig: Int32 = switch control { case .pause: SIGUSR1; case .continue: SIGUSR2; case .stop: SIGTERM }
        return kill(pid, sig) == 0 ? nil : "cannot signal process \(pid): \(String(cString: strerror(errno)))"
    }
}
