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

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare runs side by side (running, stopped and failed ones too): the settings that differ, cost, accuracy, per-class F1, per-group accuracy.")
    @Argument(help: "Run ids (a unique prefix is enough) or paths.") var ids: [String]
    @OptionGroup var folder: RunsFolder

    func validate() throws { guard ids.count >= 1 else { throw ValidationError("name at least one run") } }

    func run() throws {
        let runs = try ids.map { try RunOverview.load(try RunRecords.resolve($0, root: folder.path)) }
        let splits = Set(runs.map { SplitIdentity($0.config) })
        if splits.count > 1 {
            print("warning: these runs did not use the same data and split (dataset, validation fraction, seed or fold differ); their numbers are not comparable\n")
        }
        let labelWidth = 26, columnWidth = 28
        func row(_ label: String, _ value: (RunOverview) -> String) {
            print(pad(label, labelWidth) + runs.map { pad(value($0), columnWidth) }.joined())
        }
        func pct(_ v: Double?) -> String { v.map { String(format: "%.1f %%", 100 * $0) } ?? "—" }
        row("run") { String($0.id.suffix(columnWidth - 2)) }
        row("state") { $0.state.label }
        row("strategy") { $0.strategy }
        row("backbone") { $0.config.backbone }
        for setting in ConfigSettings.differing(runs.map(\.config)) { row(setting.name) { ConfigSettings.value(setting, in: $0.config) } }
        row("trainable / total params") { r in r.summary.map { "\(count($0.trainableParameters)) / \(count($0.totalParameters))" } ?? "—" }
        row("epochs (best)") { r in "\(r.epochsDone)/\(r.config.epochs) (\(r.bestEpoch?.epoch ?? 0))" }
        row("wall time") { r in r.wallSeconds.map { String(format: "%.1f s", $0) } ?? "—" }
        row("val acc (best epoch)") { pct($0.bestAccuracy) }
        row("binary acc (best epoch)") { pct($0.bestBinaryAccuracy) }
        var classes: [String] = []
        for r in runs { for c in r.classes where !classes.contains(c) { classes.append(c) } }
        for c in classes {
            row("F1 \(c)") { r in r.perClass.first { $0.name == c }.map { String(format: "%.3f", $0.f1) } ?? "—" }
        }
        for g in Set(runs.flatMap { $0.groups.keys }).sorted() { row("acc \(g)") { r in pct(r.groups[g]?.accuracy) } }
    }

    func pad(_ s: String, _ width: Int) -> String { s.count >= width ? String(s.prefix(width - 1)) + " " : s.padding(toLength: width, withPad: " ", startingAt: 0) }
    func count(_ n: Int) -> String {
        n >= 1_000_000 ? String(format: "%.2fM", Double(n) / 1e6) : n >= 10_000 ? String(format: "%.1fk", Double(n) / 1e3) : "\(n)"
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-evaluate a run's best checkpoint (head, and backbone when fine-tuned) on the validation images of its split and print the confusion matrix.",
        discussion: "On a terminal a progress line shows the backbone pass.")
    @Argument(help: "Run id (a unique prefix is enough) or path.") var runID: String
    @OptionGroup var folder: RunsFolder

    func run() throws {
        let path = try RunRecords.resolve(runID, root: folder.path)
        let progress = ProgressLine(json: false)
        let m = try RunRecords.evaluate(path, note: { progress.clear(); FileHandle.standardError.write(Data("note: \($0)\n".utf8)) }) { progress.show($0) }
        progress.clear()
        print(String(format: "%@: val acc %.1f %%%@, loss %.4f, macro F1 %.3f", (path as NSString).lastPathComponent, 100 * m.accuracy,
                     m.binaryAccuracy.map { String(format: ", binary %.1f %%", 100 * $0) } ?? "", m.loss, m.macroF1))
        let w = max(8, (m.classNames.map(\.count).max() ?? 0) + 2)
        print("truth \\ predicted".padding(toLength: w + 10, withPad: " ", startingAt: 0) + m.classNames.map { $0.padding(toLength: w, withPad: " ", startingAt: 0) }.joined())
        for (i, c) in m.classNames.enumerated() {
            print(c.padding(toLength: w + 10, withPad: " ", startingAt: 0) + m.confusion[i].map { String($0).padding(toLength: w, withPad: " ", startingAt: 0) }.joined())
        }
        for (i, c) in m.classNames.enumerated() {
            print(String(format: "%@  precision %.3f  recall %.3f  F1 %.3f  support %d", c.padding(toLength: w, withPad: " ", startingAt: 0),
                         m.precision[i], m.recall[i], m.f1[i], m.support[i]))
        }
        for g in m.groupAccuracy.keys.sorted() { print(String(format: "group %@: acc %.1f %% of %d", g, 100 * m.groupAccuracy[g]!, m.groupSupport[g]!)) }
    }
}
