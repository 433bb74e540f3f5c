import XCTest
import Engine
import Foundation

/// A tmux session driving the real `tlab` binary: keys in with send-keys, the screen out with capture-pane,
/// always polling for text (never sleeping a guessed time).
final class TmuxSession {
    let socket: String, name = "wb"
    init(command: String, width: Int, height: Int, environment: [String: String] = [:]) throws {
        socket = "tlab-test-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        let env = environment.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        // The server this starts keeps whatever stdout it is given open for ever: give it none to wait on.
        try tmux(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", "env \(env) \(command); sleep 30"], output: false)
    }
    /// Runs one tmux command and returns what it printed. posix_spawn and waitpid, not Foundation's Process:
    /// the server `new-session` starts inherits the client's descriptors, and Process then never sees the
    /// client end.
    @discardableResult
    func tmux(_ args: [String], output: Bool = true) throws -> String {
        let outFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket)-\(Int.random(in: 0..<1_000_000)).out").path
        defer { try? FileManager.default.removeItem(atPath: outFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output ? outFile : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ["/usr/bin/tmux", "-L", socket] + args
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ) == 0 else { throw XCTSkip("cannot run tmux") }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return output ? ((try? String(contentsOfFile: outFile, encoding: .utf8)) ?? "") : ""
    }
    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }
    func type(_ text: String) throws { try tmux(["send-keys", "-t", name, "-l", text]) }
    func capture() throws -> String { try tmux(["capture-pane", "-p", "-t", name]) }
    /// The screen with its colours as escape sequences (`capture-pane -e`).
    func captureWithColours() throws -> String { try tmux(["capture-pane", "-p", "-e", "-t", name]) }
    func resize(_ w: Int, _ h: Int) throws { try tmux(["resize-window", "-t", name, "-x", "\(w)", "-y", "\(h)"]) }
    /// Polls the screen until `predicate` holds; fails the test with the last screen after `timeout` seconds.
    @discardableResult
    func wait(_ what: String, timeout: Double = 60, file: StaticString = #filePath, line: UInt = #line, _ predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        while Date() < deadline {
            screen = try capture()
            if predicate(screen) { return screen }
            usleep(100_000)
        }
        XCTFail("timed out waiting for \(what); the screen was:\n\(screen)", file: file, line: line)
        throw XCTSkip("giving up after a timeout")
    }
    @discardableResult
    func wait(for text: String, timeout: Double = 60, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try wait("'\(text)'", timeout: timeout, file: file, line: line) { $0.contains(text) }
    }
    func kill() { _ = try? tmux(["kill-server"]) }
}

extension CLITests {
    /// The workbench end to end: open it, type a tiny generated dataset, start feature extraction, see the
    /// progress and the curves move, pause and continue, the runs screen, a terminal too small and back, the
    /// help overlay, and quit stopping the run with a checkpoint.
    func testWorkbenchInTmuxRunsAnExperimentEndToEnd() throws {
        let tmp = try scratchWithLite0Weights("tmux")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "needs tmux (make setup installs it)")
        let data = tmp.appendingPathComponent("tiny")
        try writeTwoClassFolder(data, perClass: 8) { cls, i in UInt8((cls == "a" ? 40 : 180) + 4 * i) }
        let runs = tmp.appendingPathComponent("runs").path
        let session = try TmuxSession(command: "\(tlab.path) --runs \(runs) --cache \(tmp.appendingPathComponent("cache").path)",
                                      width: 100, height: 30, environment: ["TERM": "screen-256color", "LANG": "C.UTF-8"])
        defer { session.kill() }
        try session.wait(for: "new experiment")
        try session.wait(for: "[feature-extraction]")
        // Type the dataset, then 10000 epochs (a head on cached features: long enough to pause it).
        try session.keys("d"); try session.keys("C-u"); try session.type(data.path); try session.keys("Enter")
        try session.wait(for: "tiny  16 images, 2 classes")
        try session.keys("Tab")
        try session.keys("e"); try session.keys("C-u"); try session.type("10000"); try session.keys("Enter")
        try session.wait("the epochs set") { $0.range(of: #"epochs +10000"#, options: .regularExpression) != nil && !$0.contains("apply") }
        try session.keys("Enter")
        let first = try session.wait("the first epochs") { $0.contains("running") && $0.contains(" epoch ") && $0.range(of: #"epoch [1-9][0-9]*/10000"#, options: .regularExpression) != nil }
        let firstEpoch = Self.epoch(in: first)
        // The run is a process in a session of its own: the terminal closing or the workbench quitting never reaches it.
        let started = try XCTUnwrap(RunRecords.list(root: runs).first)
        let pid = try XCTUnwrap(RunOwner.livePID(started))
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        XCTAssertEqual(Int32(fields[3]), pid, "the training process leads its own session")
        let second = try session.wait("more epochs") { Self.epoch(in: $0) > firstEpoch + 20 }
        XCTAssertNotEqual(Self.chartArea(first), Self.chartArea(second), "the curves change as epochs arrive")
        // Pause and continue.
        try session.keys("p")
        let paused = try session.wait(for: "─ paused ─")
        XCTAssertTrue(paused.contains("p continue"), paused)
        try session.keys("p")
        try session.wait(for: "─ running ─")
        // The runs screen lists it as training.
        try session.keys("l")
        try session.wait("the runs screen") { $0.contains("tlab ─ runs") && $0.contains("running") && $0.contains("feature-extraction") }
        // Too small, then back.
        try session.resize(60, 20)
        try session.wait(for: "too small")
        try session.resize(100, 30)
        try session.wait(for: "tlab ─ runs")
        // Help, filtered by typing.
        try session.keys("?")
        try session.wait(for: "keys — runs")
        try session.type("mark")
        try session.wait("the filtered help") { $0.contains("mark or unmark") && !$0.contains("watch the selected run") }
        try session.keys("Escape"); try session.keys("Escape")
        try session.wait("the help closed") { !$0.contains("keys — runs") }
        // Quit while the run trains: asked first; `s` stops it with a checkpoint.
        try session.keys("q")
        try session.wait(for: "training in the background")
        try session.keys("s")
        let run = try XCTUnwrap(RunRecords.list(root: runs).first)
        let deadline = Date().addingTimeInterval(60)
        while RunRecords.state(run) != .stopped && Date() < deadline { usleep(100_000) }
        XCTAssertEqual(RunRecords.state(run), .stopped, "quitting with s stops the run with a checkpoint")
        XCTAssertTrue(FileManager.default.fileExists(atPath: run + "/checkpoints/last.safetensors"))
        session.kill()
        // Reopen on that run: it is stopped, R resumes it from its checkpoint, and it trains again.
        let again = try TmuxSession(command: "\(tlab.path) watch \((run as NSString).lastPathComponent) --runs \(runs)",
                                    width: 100, height: 30, environment: ["TERM": "screen-256color", "LANG": "C.UTF-8"])
        defer { again.kill() }
        // Polled as a whole: a capture can land between the title's and the hint line's updates.
        try again.wait("the stopped run offering R") { $0.contains("─ stopped ─") && $0.contains("R resume") }
        try again.keys("R")
        try again.wait(for: "─ running ─")
        // Quit only once the resumed process has said so (a stop during its start-up is legitimate too, but not
        // what this checks).
        let resumedBy = Date().addingTimeInterval(60)
        while (try? RunLogReader.history(of: run).resumes) != 1 && Date() < resumedBy { usleep(50_000) }
        try again.keys("q")
        try again.wait(for: "training in the background")
        try again.keys("s")
        let until = Date().addingTimeInterval(60)
        while RunRecords.state(run) != .stopped && Date() < until { usleep(100_000) }
        XCTAssertEqual(RunRecords.state(run), .stopped)
        XCTAssertEqual(try RunLogReader.history(of: run).resumes, 1, "the run was resumed once")
    }

    static func epoch(in screen: String) -> Int {
        guard let r = screen.range(of: #"epoch ([0-9]+)/10000"#, options: .regularExpression) else { return 0 }
        return Int(screen[r].dropFirst(6).split(separator: "/")[0]) ?? 0
    }

    static func chartArea(_ screen: String) -> String { screen.split(separator: "\n").dropFirst(1).prefix(14).joined(separator: "\n") }
}

extension CLITests {
    /// Without a terminal (a pipe, or TERM=dumb in a real one) the workbench says why, points to the CLI and
    /// exits with status 2 — before touching the terminal.
    func testWorkbenchWithoutAUsableTerminalPointsToTheCLIAndExits2() throws {
        let piped = try run([])
        XCTAssertEqual(piped.status, 2)
        XCTAssertTrue(piped.err.contains("needs an interactive terminal") && piped.err.contains("tlab train"), piped.err)
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "needs tmux")
        let session = try TmuxSession(command: "sh -c '\(tlab.path); echo EXIT=$?'", width: 100, height: 10, environment: ["TERM": "dumb"])
        defer { session.kill() }
        let screen = try session.wait(for: "EXIT=")
        XCTAssertTrue(screen.contains("TERM is dumb") && screen.contains("EXIT=2"), screen)
    }
}

extension CLITests {
    /// Two runs on a tiny dataset (feature extraction and fine-tune-top, trained headless) → the compare screen
    /// shows both with their differing settings → the results screen → the worst mistake's image in cells.
    func testWorkbenchComparesTwoRunsAndShowsAMistakesImage() throws {
        let tmp = try scratchWithLite0Weights("tmux-compare")
        defer { try? FileManager.default.removeItem(at: tmp) }
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "needs tmux (make setup installs it)")
        let data = tmp.appendingPathComponent("overlap")
        // Overlapping brightness: some images are bound to be misclassified.
        try writeTwoClassFolder(data, perClass: 8) { cls, i in UInt8((cls == "a" ? 60 : 80) + 6 * i) }
        let runs = tmp.appendingPathComponent("runs").path, cache = tmp.appendingPathComponent("cache").path
        for (preset, extra) in [("feature-extraction", ["--epochs", "20"]), ("fine-tune-top", ["--epochs", "1", "--batch-size", "4"])] {
            let r = try run(["train", "--preset", preset, "--dataset", data.path, "--res", "32", "--runs", runs, "--cache", cache] + extra)
            XCTAssertEqual(r.status, 0, r.err)
        }
        // Colour on whatever the calling environment says (NO_COLOR would draw the image as a character ramp).
        let session = try TmuxSession(command: "\(tlab.path) --runs \(runs) --cache \(cache)", width: 120, height: 40,
                                      environment: ["TERM": "screen-256color", "LANG": "C.UTF-8", "NO_COLOR": ""])
        defer { session.kill() }
        try session.wait(for: "new experiment")
        try session.keys("l")
        try session.wait("both runs listed") { $0.contains("tlab ─ runs") && $0.components(separatedBy: "finished").count > 2 }
        try session.keys("c")
        let compare = try session.wait("the compare screen") { $0.contains("compare 2 runs") && $0.contains("intermediate lr") }
        XCTAssertTrue(compare.contains("same split ✓"), compare)
        XCTAssertTrue(compare.contains("feature-extraction") && compare.contains("fine-tune-top"), compare)
        XCTAssertTrue(compare.contains("augmentation"), "a differing setting:\n\(compare)")
        try session.keys("Escape")
        try session.wait(for: "tlab ─ runs")
        // Newest first: the fine-tune-top run is selected; its results, then a worst mistake's image.
        try session.keys("r")
        // The image: half blocks with colour, a run of brightness-ramp characters without.
        func hasImage(_ screen: String) -> Bool {
            screen.contains("▀") || screen.range(of: #"│ [.:=+*#%@-]{12,}"#, options: .regularExpression) != nil
        }
        let results = try session.wait("the results screen with an image") { $0.contains("results at epoch") && $0.contains("worst mistakes") && hasImage($0) }
        XCTAssertTrue(results.contains("truth") && results.contains("predicted"), results)
        XCTAssertTrue(results.contains("confusion"), results)
        try session.keys("j")
        try session.wait("still an image after moving the selection") { hasImage($0) }
        try session.keys("q")

        // The same image through each protocol, chosen with --images: kitty placeholder cells (U+10EEEE with
        // row / column marks; their pixels went to tmux's passthrough), 24-bit half blocks, sixel's fallback cells.
        let newest = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: runs).filter { $0.contains("fine-tune-top") }.sorted().last)
        for mode in ["kitty", "truecolor", "sixel"] {
            let s = try TmuxSession(command: "\(tlab.path) watch \(newest) --runs \(runs) --images \(mode)", width: 120, height: 40,
                                    environment: ["TERM": "screen-256color", "LANG": "C.UTF-8", "NO_COLOR": ""])
            defer { s.kill() }
            try s.tmux(["set", "-g", "allow-passthrough", "on"])
            try s.wait(for: "epoch")
            try s.keys("r")
            try s.wait("results with the \(mode) image") { screen in
                guard screen.contains("worst mistakes") else { return false }
                switch mode {
                case "kitty": return screen.unicodeScalars.contains("\u{10EEEE}")
                case "truecolor": return ((try? s.captureWithColours()) ?? "").contains("38;2;") && screen.contains("▀")
                default: return screen.contains("▀")
                }
            }
            try s.keys("j")
            try s.keys("?")
            try s.wait(for: "filter")
            try s.keys("Escape")
            try s.wait("the image again after the overlay") { $0.contains("worst mistakes") && ($0.contains("▀") || $0.unicodeScalars.contains("\u{10EEEE}")) }
            try s.keys("q")
        }
    }
}
