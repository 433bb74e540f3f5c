import Engine
import Foundation
import TerminalUI

/// The workbench's UI thread: it owns the terminal and the state, takes keys and the watcher's messages,
/// turns keys into actions through the focused screen's key table, and redraws from the state. It never
/// waits on training: runs are other processes, and their folders are read by the watcher thread.
final class App {
    var state: WorkbenchState
    let terminal: Terminal
    let theme: Theme
    let paths: ExperimentPaths
    let inbox = Inbox<WorkbenchMessage>()
    let watcher: RunWatcher
    let launcher: RunLauncher
    let trace: FrameTrace?
    private var running = true
    private var dirty = true
    /// The launch whose run the run screen is waiting to show.
    private var awaitedLaunch: pid_t?

    init(state: WorkbenchState, terminal: Terminal, paths: ExperimentPaths, trace: FrameTrace?) {
        self.state = state
        self.terminal = terminal
        self.paths = paths
        self.trace = trace
        theme = Theme(colors: terminal.colors, glyphs: terminal.glyphs, images: terminal.graphics?.images)
        watcher = RunWatcher(paths: paths, inbox: inbox)
        launcher = RunLauncher(paths: paths)
    }

    func run() {
        updateWatched()
        watcher.start()
        defer { watcher.stop() }
        while running {
            let key = terminal.readKey(timeoutMilliseconds: 40)
            let t0 = DispatchTime.now().uptimeNanoseconds, readAt = Date().timeIntervalSince1970
            if let key { handle(key); dirty = true }
            for message in inbox.takeAll() { receive(message) }
            if let s = state.status, s.until < Date() { state.status = nil; dirty = true }
            if dirty && running {
                render()
                dirty = false
                trace?.frame(key: key, readAt: readAt, nanoseconds: DispatchTime.now().uptimeNanoseconds - t0)
            }
        }
    }

    // MARK: drawing

    func currentTable() -> KeyTable<Action> {
        switch state.screen {
        case .setup: SetupScreen.keyTable(state.setup)
        case .run: RunScreen.keyTable(state.watched)
        case .runs: RunsScreen.keyTable(state)
        case .results: ResultsScreen.keyTable(state.results)
        case .compare: CompareScreen.keyTable(state.compare)
        }
    }

    func render() {
        let (w, h) = terminal.size
        let canvas = Canvas(width: w, height: h)
        App.draw(state, into: canvas, theme: theme)
        terminal.draw(canvas)
    }

    /// The whole frame for `state`: the screen's view, then its overlays — or the too-small screen.
    static func draw(_ state: WorkbenchState, into canvas: Canvas, theme: Theme) {
        if canvas.width < Chrome.minimumSize.width || canvas.height < Chrome.minimumSize.height {
            renderTooSmall(into: canvas, need: Chrome.minimumSize, glyphs: theme.glyphs)
            return
        }
        switch state.screen {
        case .setup: SetupScreen.render(state, into: canvas, theme: theme)
        case .run: RunScreen.render(state, into: canvas, theme: theme)
        case .runs: RunsScreen.render(state, into: canvas, theme: theme)
        case .results: ResultsScreen.render(state, into: canvas, theme: theme)
        case .compare: CompareScreen.render(state, into: canvas, theme: theme)
        }
        if let c = state.confirmation { Chrome.confirmation(c, into: canvas, theme: theme) }
        if let help = state.help { help.render(into: canvas, glyphs: theme.glyphs) }
        // A sixel image would be drawn over an overlay; it comes back when the overlay closes.
        if state.confirmation != nil || state.help != nil { canvas.graphics.removeAll { $0.kind == .sixel } }
    }

    // MARK: keys

    func handle(_ key: Key) {
        if key == .resize { terminal.invalidate(); return }
        if let c = state.confirmation {
            if let action = c.table.action(for: key) { perform(action) }
            return
        }
        if var help = state.help {
            let (w, h) = terminal.size
            if help.handle(key, area: Rect(x: 0, y: 0, width: w, height: h)) { state.help = help } else { state.help = nil }
            return
        }
        // Typing goes to the field being edited (or the runs filter) before any binding.
        if state.screen == .setup, var editor = state.setup.editor, key != .enter, key != .escape {
            if editor.field.handle(key) { editor.field.error = nil; state.setup.editor = editor }
            return
        }
        if state.screen == .runs, state.filtering, key != .enter, key != .escape {
            switch key {
            case .backspace: if !state.runsFilter.isEmpty { state.runsFilter.removeLast() }
            case .ctrl("u"): state.runsFilter = ""
            case .char(let c): state.runsFilter.append(c)
            default: break
            }
            state.runsSelection = 0
            return
        }
        if let action = currentTable().action(for: key) { perform(action) }
    }

    func say(_ text: String, error: Bool = false) {
        state.status = StatusMessage(text: text, isError: error, until: Date().addingTimeInterval(error ? 8 : 4))
    }

    func push(_ screen: Screen) {
        guard screen != state.screen else { return }
        state.history.append(state.screen)
        state.screen = screen
    }

    func watch(_ path: String?) {
        state.watchedPath = path
        state.watched = nil
        updateWatched()
    }

    /// The watcher tails the run screen's run and the compare screen's runs.
    func updateWatched() {
        watcher.watch(Array(Set([state.watchedPath].compactMap { $0 } + (state.compare?.paths ?? []))))
    }

    func perform(_ action: Action) {
        switch action {
        case .help:
            state.help = HelpOverlay(currentTable(), glyphs: theme.glyphs)
        case .quit:
            let training = state.trainingRuns
            if training.isEmpty && state.pendingLaunches.isEmpty { running = false; return }
            let n = max(training.count, state.pendingLaunches.count)
            state.confirmation = Confirmation(
                title: "quit?",
                lines: ["\(n) run\(n == 1 ? " is" : "s are") training in the background.",
                        "Quitting leaves \(n == 1 ? "it" : "them") training: reopen tlab (or tlab watch RUN)",
                        "to watch again. Or stop \(n == 1 ? "it" : "them") now with a checkpoint (R resumes)."],
                table: KeyTable(title: "quit", bindings: [
                    KeyBinding(keys: [.char("q"), .char("y")], hint: "quit, keep training", description: "quit; runs keep training", priority: 3, action: .confirmQuit),
                    KeyBinding(keys: [.char("s")], hint: "stop runs and quit", description: "stop every run with a checkpoint, then quit", priority: 2, action: .stopAllAndQuit),
                    KeyBinding(keys: [.escape, .char("n")], hint: "stay", description: "stay in the workbench", priority: 1, action: .dismiss),
                ]))
        case .confirmQuit:
            running = false
        case .stopAllAndQuit:
            for r in state.trainingRuns { _ = RunLauncher.send(.stop, to: r.path) }
            // Runs started a moment ago may not be listed as training yet: their processes get the same signal.
            for launch in state.pendingLaunches { kill(launch.pid, SIGTERM) }
            running = false
        case .dismiss:
            state.confirmation = nil
        case .confirmStop:
            confirmStopAction()
        case .confirmDelete:
            performRuns(.confirmDelete)
        case .back:
            if state.confirmation != nil { state.confirmation = nil; return }
            if state.screen == .setup, state.setup.editor != nil { state.setup.editor = nil; return }
            if state.screen == .runs, state.filtering || !state.runsFilter.isEmpty { state.filtering = false; state.runsFilter = ""; return }
            if let previous = state.history.popLast() { state.screen = previous }
        case .newExperiment:
            push(.setup)
        case .showRuns:
            push(.runs)
        default:
            switch state.screen {
            case .setup: performSetup(action)
            case .run: performRun(action)
            case .runs: performRuns(action)
            case .results: performResults(action)
            case .compare: performCompare(action)
            }
        }
    }

    // MARK: setup

    func performSetup(_ action: Action) {
        var form = state.setup
        defer { state.setup = form }
        let panes = SetupForm.Pane.allCases
        switch action {
        case .focusNext: form.focus = panes[(form.focus.rawValue + 1) % panes.count]
        case .focusPrevious: form.focus = panes[(form.focus.rawValue + panes.count - 1) % panes.count]
        case .up, .down:
            let d = action == .up ? -1 : 1
            switch form.focus {
            case .backbone: form.selectBackbone(form.backboneRow + d)
            case .dataset: break
            case .groups: form.groupRow = max(0, min(SetupForm.rows.count - 1, form.groupRow + d))
            case .options: form.optionRow = max(0, min(OptionKey.allCases.count - 1, form.optionRow + d))
            }
        case .left, .right:
            guard form.focus == .options else { return }
            OptionKey.allCases[form.optionRow].cycle(&form.config, action == .right ? 1 : -1)
            form.validate()
        case .toggleTrained: form.toggleTrained(group: SetupForm.rows[form.groupRow])
        case .cycleBatchNorm: form.cycleBatchNorm(group: SetupForm.rows[form.groupRow])
        case .cyclePreset: form.cyclePreset(1)
        case .previousPreset: form.cyclePreset(-1)
        case .edit:
            switch form.focus {
            case .groups: form.beginEditing(.learningRate(group: SetupForm.rows[form.groupRow]))
            case .options: form.beginEditing(.option(OptionKey.allCases[form.optionRow]))
            case .dataset: form.beginEditing(.dataset)
            case .backbone: break
            }
        case .editDataset: form.beginEditing(.dataset)
        case .option(let key):
            form.focus = .options
            form.optionRow = OptionKey.allCases.firstIndex(of: key) ?? 0
            if key.isTyped { form.beginEditing(.option(key)) } else { key.cycle(&form.config, 1); form.validate() }
        case .start:
            if form.editor != nil { form.commitEdit(paths: paths); return }
            if let problem = form.startProblem { say(problem, error: true); return }
            do {
                let launch = try launcher.start(form.config)
                watcher.track(launch)
                state.pendingLaunches.append(launch)
                awaitedLaunch = launch.pid
                watch(nil)
                push(.run)
                say("starting \(form.presetLabel) on \(form.config.backbone)…")
            } catch { say("\(error)", error: true) }
        case .writeConfig:
            do { say("wrote \(try writeConfig(form.config)): run it headless with tlab train --config FILE") } catch { say("\(error)", error: true) }
        default: break
        }
    }

    /// experiments/NAME.json, or NAME-2.json … when that exists (the shipped presets are never overwritten).
    func writeConfig(_ config: ExperimentConfig) throws -> String {
        let folder = (paths.runs as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var n = 1, path = (folder as NSString).appendingPathComponent("\(config.name).json")
        while FileManager.default.fileExists(atPath: path) { n += 1; path = (folder as NSString).appendingPathComponent("\(config.name)-\(n).json") }
        try config.encoded().write(to: URL(fileURLWithPath: path), options: .atomic)
        return path
    }

    // MARK: run

    func performRun(_ action: Action) {
        guard let run = state.watched else { return }
        switch action {
        case .pauseOrContinue:
            let pausing = run.state == .running
            if let err = RunLauncher.send(pausing ? .pause : .continue, to: run.path) { say(err, error: true) }
            else { say(pausing ? "pausing after the current step…" : "continuing…") }
        case .stop: confirmStop(run.path, id: run.id)
        case .resume: resume(id: run.id, path: run.path)
        case .results: openResults(run.path, history: run.history)
        case .compare: openCompare()
        default: break
        }
    }

    // MARK: compare

    /// The marked runs, or by default the latest feature-extraction run and the latest fine-tuning run.
    func openCompare() {
        var paths = state.runs.filter { state.marked.contains($0.path) }.map(\.path)
        if paths.count < 2 {
            let fe = state.runs.first { $0.strategy == "feature-extraction" && $0.epochsDone > 0 }
            let ft = state.runs.first { $0.strategy != "feature-extraction" && $0.epochsDone > 0 }
            paths = [fe, ft].compactMap { $0?.path }
        }
        guard paths.count >= 2 else {
            say("compare needs two runs: mark them with Space on the runs screen (or run feature extraction and a fine-tuning)", error: true)
            return
        }
        state.compare = CompareView(paths: paths)
        updateWatched()
        push(.compare)
    }

    func performCompare(_ action: Action) {
        guard var v = state.compare else { return }
        defer { state.compare = v }
        switch action {
        case .up: v.scroll = max(0, v.scroll - 1)
        case .down: v.scroll += 1
        case .metric:
            let all = CompareView.Metric.allCases
            v.metric = all[((all.firstIndex(of: v.metric) ?? 0) + 1) % all.count]
        case .timeAxis: v.xAxis = v.xAxis == .epoch ? .time : .epoch
        case .smoothing: v.smoothing.toggle()
        case .pinBaseline: v.baseline = (v.baseline + 1) % max(1, v.paths.count)
        case .allSettings: v.allSettings.toggle()
        case .groupSeeds:
            if v.seedGroups.count == v.loaded.count && !v.groupSeeds { say("no two runs differ only in their seed: nothing to group"); return }
            v.groupSeeds.toggle(); v.scroll = 0
        default: break
        }
    }

    // MARK: results

    func openResults(_ path: String, history: RunHistory?) {
        let h = history ?? (try? RunLogReader.history(of: path)) ?? RunHistory()
        state.results = ResultsView.load(path: path, history: h)
        push(.results)
    }

    func performResults(_ action: Action) {
        guard var v = state.results else { return }
        defer { state.results = v }
        let epochs = v.history.epochs.count
        switch action {
        case .up: v.selection = max(0, v.selection - 1)
        case .down: v.selection = min(max(0, v.mistakes.count - 1), v.selection + 1)
        case .left, .right:
            guard epochs > 0 else { return }
            let current = v.epochIndex ?? v.history.epochs.firstIndex { $0.epoch == v.history.bestEpoch?.epoch } ?? epochs - 1
            v.epochIndex = max(0, min(epochs - 1, current + (action == .left ? -1 : 1)))
        case .bestEpoch: v.epochIndex = nil
        case .normalise: v.normalised.toggle()
        case .sort:
            let keys = ResultsView.SortKey.allCases
            v.sort = keys[((keys.firstIndex(of: v.sort) ?? 0) + 1) % keys.count]
        case .filterClass:
            let n = v.classes.count
            v.classFilter = v.classFilter.map { $0 + 1 < n ? $0 + 1 : nil } ?? (n > 0 ? 0 : nil)
            v.selection = 0
        default: break
        }
    }

    func confirmStop(_ path: String, id: String) {
        stopTarget = path
        state.confirmation = Confirmation(
            title: "stop \(id)?",
            lines: ["It stops after the current step and writes a checkpoint;", "R resumes it exactly where it stopped."],
            table: KeyTable(title: "stop", bindings: [
                KeyBinding(keys: [.char("y"), .enter], hint: "stop it", description: "stop the run with a checkpoint", priority: 2, action: .confirmStop),
                KeyBinding(keys: [.escape, .char("n")], hint: "keep training", description: "keep it training", priority: 1, action: .dismiss),
            ]))
    }
    private var stopTarget: String?
    private var deleteTarget: RunRow?

    func resume(id: String, path: String) {
        do {
            let launch = try launcher.resume(runID: id)
            watcher.track(launch)
            state.pendingLaunches.append(launch)
            watch(path)
            push(.run)
            say("resuming \(id)…")
        } catch { say("\(error)", error: true) }
    }

    // MARK: runs

    func performRuns(_ action: Action) {
        let rows = state.visibleRuns
        switch action {
        case .up: state.runsSelection = max(0, state.runsSelection - 1)
        case .down: state.runsSelection = min(max(0, rows.count - 1), state.runsSelection + 1)
        case .filter: state.filtering = true
        case .open:
            if state.filtering { state.filtering = false; return }
            guard let r = state.selectedRun else { return }
            watch(r.path)
            push(.run)
        case .mark:
            guard let r = state.selectedRun else { return }
            if state.marked.contains(r.path) { state.marked.remove(r.path) } else { state.marked.insert(r.path) }
            say("\(state.marked.count) run\(state.marked.count == 1 ? "" : "s") marked for comparison")
        case .resume:
            guard let r = state.selectedRun, r.state.canResume else { return }
            resume(id: r.id, path: r.path)
        case .results:
            guard let r = state.selectedRun else { return }
            openResults(r.path, history: nil)
        case .compare:
            openCompare()
        case .stop:
            guard let r = state.selectedRun else { return }
            confirmStop(r.path, id: r.id)
        case .delete:
            guard let r = state.selectedRun else { return }
            if r.state == .running || r.state == .paused { say("\(r.id) is training: stop it first (x)", error: true); return }
            deleteTarget = r
            state.confirmation = Confirmation(
                title: "delete \(r.id)?",
                lines: ["Its folder goes: checkpoints, log, results.", "This cannot be undone."],
                table: KeyTable(title: "delete", bindings: [
                    KeyBinding(keys: [.char("y")], hint: "delete", description: "delete the run's folder", priority: 2, action: .confirmDelete),
                    KeyBinding(keys: [.escape, .char("n")], hint: "keep it", description: "keep the run", priority: 1, action: .dismiss),
                ]))
        case .confirmDelete:
            state.confirmation = nil
            guard let r = deleteTarget else { return }
            // A run that started training meanwhile is not deleted.
            if RunOwner.isAlive(r.path) { say("\(r.id) is training now: not deleted", error: true); return }
            do {
                try FileManager.default.removeItem(atPath: r.path)
                state.marked.remove(r.path)
                state.runs.removeAll { $0.path == r.path }
                state.runsSelection = min(state.runsSelection, max(0, state.visibleRuns.count - 1))
                watcher.refresh()
                say("deleted \(r.id)")
            } catch { say("cannot delete \(r.path): \(error.localizedDescription)", error: true) }
        default: break
        }
    }

    // MARK: messages

    func receive(_ message: WorkbenchMessage) {
        dirty = true
        switch message {
        case .terminate:
            running = false
        case .watcher(.runs(let rows)):
            let selected = state.selectedRun?.path
            state.runs = rows
            if let selected, let i = state.visibleRuns.firstIndex(where: { $0.path == selected }) { state.runsSelection = i }
            state.runsSelection = min(state.runsSelection, max(0, state.visibleRuns.count - 1))
        case .watcher(.watched(let w)):
            if w.path == state.watchedPath { state.watched = w }
            if state.compare?.paths.contains(w.path) == true { state.compare?.runs[w.path] = w }
        case .watcher(.launchStarted(let launch, let id)):
            if awaitedLaunch == launch.pid, state.screen == .run {
                watch((paths.runs as NSString).appendingPathComponent(id))
                awaitedLaunch = nil
            }
        case .watcher(.launchEnded(let launch, let status, let error)):
            state.pendingLaunches.removeAll { $0.pid == launch.pid }
            if status != 0 && status != 130 {
                let reason = error.split(separator: "\n").last.map(String.init) ?? "exit status \(status)"
                say("\(launch.description) failed: \(reason)", error: true)
                if awaitedLaunch == launch.pid {
                    awaitedLaunch = nil
                    if state.watchedPath == nil, let previous = state.history.popLast() { state.screen = previous }
                }
            }
        }
    }

    func confirmStopAction() {
        state.confirmation = nil
        guard let path = stopTarget else { return }
        if let err = RunLauncher.send(.stop, to: path) { say(err, error: true) } else { say("stopping after the current step (a checkpoint is written)…") }
    }
}

/// Frame times, one JSON line per frame, when TLAB_WORKBENCH_TRACE names a file: whether a key started the
/// frame, when the key was read (Unix seconds) and how long handling it and redrawing took. What
/// `bench/workbench_latency.py` measures while a run trains.
final class FrameTrace {
    let handle: FileHandle
    init?(path: String?) {
        guard let path, FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else { return nil }
        handle = h
    }
    func frame(key: Key?, readAt: Double, nanoseconds: UInt64) {
        let line = "{\"key\":\(key == nil ? "false" : "true"),\"read\":\(String(format: "%.6f", readAt)),\"ms\":\(String(format: "%.3f", Double(nanoseconds) / 1e6))}\n"
        handle.write(Data(line.utf8))
    }
}
