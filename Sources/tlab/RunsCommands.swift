import ArgumentParser
import Engine
import Foundation

/// `--runs DIR`, the runs folder, the same in every subcommand (`--root` is the old name, still accepted).
struct RunsFolder: ParsableArguments {
    @Option(help: "Runs folder.") var runs = ExperimentPaths().runs
    @Option(name: .customLong("root"), help: .hidden) var legacyRoot: String?
    var path: String { legacyRoot ?? runs }
}

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List runs, newest first: state (running, paused, finished, failed, stopped, interrupted), strategy, accuracy, time.")
    @OptionGroup var folder: RunsFolder
    @Flag(help: "One JSON object per line and run.") var json = false

    /// What `runs --json` prints for one run.
    struct Line: Encodable {
        var run, state, strategy, backbone, dataset: String
        var reason: String?
        var resume: String?
        var epoch, epochs: Int
        var valAccuracy, valBinaryAccuracy, wallSeconds: Double?
        var summary: RunSummary?
        enum CodingKeys: String, CodingKey {
            case run, state, reason, resume, strategy, backbone, dataset, epoch, epochs, summary
            case valAccuracy = "val_acc", valBinaryAccuracy = "val_acc_binary", wallSeconds = "wall_s"
        }
    }

    func run() throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else {
            // The home's runs folder appears with the first run; a folder the user named must exist.
            if folder.path == ExperimentPaths().runs && !isDir.boolValue {
                if !json { print("no runs yet (\(folder.path))") }
                return
            }
            throw ValidationError("\(folder.path): no such runs folder")
        }
        for path in RunRecords.list(root: folder.path) {
            let id = (path as NSString).lastPathComponent
            let run: RunOverview
            do { run = try RunOverview.load(path) } catch {
                print(json ? try JSONLines.string(["run": id, "state": "unreadable", "reason": "\(error)"])
                           : "\(id)  unreadable: \(error)")
                continue
            }
            let resume = run.state.canResume ? Self.resumeCommand(id, folder: folder.path) : nil
            if json {
                var reason: String?
                if case .failed(let r, _) = run.state { reason = r }
                let line = Line(run: id, state: run.state.label, strategy: run.strategy, backbone: run.config.backbone, dataset: run.dataset,
                                reason: reason, resume: resume, epoch: run.epochsDone, epochs: run.config.epochs, valAccuracy: run.bestAccuracy,
                                valBinaryAccuracy: run.bestBinaryAccuracy, wallSeconds: run.wallSeconds, summary: run.summary)
                print(try JSONLines.string(line))
            } else {
                var text = "\(id)  \(run.stateDescription)  \(run.strategy) \(run.config.backbone)  \(run.epochsDone)/\(run.config.epochs) epochs"
                if let a = run.bestAccuracy { text += String(format: "  best val acc %.1f %%", 100 * a) }
                if let b = run.bestBinaryAccuracy { text += String(format: " (binary %.1f %%)", 100 * b) }
                if let w = run.wallSeconds { text += String(format: "  %.1f s", w) }
                if let resume { text += "; continue with: \(resume)" }
                print(text)
            }
        }
    }

    /// The command that continues a run, naming the runs folder when it is not the default.
    static func resumeCommand(_ id: String, folder: String) -> String {
        "tlab train --resume \(id)" + (folder == ExperimentPaths().runs ? "" : " --runs \(folder)")
    }
}
