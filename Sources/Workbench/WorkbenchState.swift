import Engine
import Foundation
import TerminalUI

enum Screen: Equatable { case setup, run, runs, results, compare }

/// Everything any key can do, on any screen. Key tables map keys to these; `App.perform` carries them out.
enum Action: Equatable {
    case quit, help, back, newExperiment, showRuns
    // setup
    case focusNext, focusPrevious, up, down, left, right, toggleTrained, edit, cycleBatchNorm, cyclePreset, previousPreset, editDataset, start, writeConfig
    /// Jump to a run option: type it, or move it to its next choice.
    case option(OptionKey)
    // run
    case pauseOrContinue, stop, resume
    // runs
    case open, filter, delete, mark
    // results
    case results, bestEpoch, normalise, sort, filterClass
    // compare
    case compare, metric, timeAxis, smoothing, pinBaseline, allSettings, groupSeeds
    // a confirmation's answers
    case confirmQuit, stopAllAndQuit, confirmDelete, confirmStop, dismiss
}

/// A question that blocks the screen until answered (quit while training, delete, stop).
struct Confirmation {
    var title: String
    var lines: [String]
    var table: KeyTable<Action>
}

/// A line of feedback under the screen: what just happened, or why an action was refused.
struct StatusMessage: Equatable {
    var text: String
    var isError: Bool
    var until: Date
}

/// The one state the views render; only the UI thread changes it, and only through `App.perform` and the
/// watcher's messages.
struct WorkbenchState {
    var screen: Screen
    var history: [Screen] = []
    var setup: SetupForm
    var runs: [RunRow] = []
    var runsSelection = 0
    var runsFilter = ""
    var filtering = false
    var marked: Set<String> = []
    /// The run the run screen shows (its folder) and the latest snapshot of it.
    var watchedPath: String?
    var watched: WatchedRun?
    /// The results screen's run, when it is open.
    var results: ResultsView?
    /// The compare screen's runs, when it is open.
    var compare: CompareView?
    /// Runs this workbench started whose run id is not known yet.
    var pendingLaunches: [RunLauncher.Launch] = []
    var help: HelpOverlay?
    var confirmation: Confirmation?
    var status: StatusMessage?

    var visibleRuns: [RunRow] {
        guard !runsFilter.isEmpty else { return runs }
        let f = runsFilter.lowercased()
        return runs.filter { r in [r.id, r.state.label, r.strategy, r.backbone, r.dataset].contains { $0.lowercased().contains(f) } }
    }
    var selectedRun: RunRow? { let v = visibleRuns; return v.indices.contains(runsSelection) ? v[runsSelection] : nil }
    var trainingRuns: [RunRow] { runs.filter { $0.state == .running || $0.state == .paused } }
}

/// Messages the UI loop takes from its inbox.
enum WorkbenchMessage: Sendable {
    case watcher(WatcherMessage)
    /// SIGINT / SIGTERM / SIGHUP reached the workbench: leave cleanly.
    case terminate
}
