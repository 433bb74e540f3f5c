import ArgumentParser
import Engine
import Foundation

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List runs under experiments/runs, newest first.")
    @Option(help: "Runs folder.") var root = "experiments/runs"
    @Flag(help: "One JSON line per run (its summary, or its last event while it runs).") var json = false

    func run() throws {
        for path in RunRecords.list(root: root) {
            let id = (path as NSString).lastPathComponent
            if let s = RunRecords.summary(path) {
                if json { print(jsonLine([("run", id)] + s.sorted { $0.key < $1.key }.filter { !($0.value is [String: Any]) }.map { ($0.key, $0.value) })) }
                else {
                    print(String(format: "%@  %@ %@  %d epochs  val acc %.1f %%%@  %.1f s", id, s["strategy"] as? String ?? "?",
                                 s["backbone"] as? String ?? "?", s["epochs"] as? Int ?? 0, 100 * (s["final_val_acc"] as? Double ?? 0),
                                 (s["final_val_acc_binary"] as? Double).map { String(format: "  binary %.1f %%", 100 * $0) } ?? "",
                                 s["wall_s"] as? Double ?? 0))
                }
            } else {
                let state: String
                switch RunRecords.state(path) {
                case .failed(let reason): state = "failed: \(reason)"
                case .running: state = "running (last event: \(RunRecords.lastEvent(path)?["event"] as? String ?? "none"))"
                case .stopped: state = "stopped; continue with: tlab train --resume \(id)"
                case .interrupted: state = "interrupted (killed); continue with: tlab train --resume \(id)"
                case .finished: state = "finished"
                }
                print(json ? jsonLine([("run", id), ("state", state)]) : "\(id)  \(state)")
            }
        }
    }
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare runs side by side: strategy, parameters, epochs, time, accuracy, per-class F1, per-group accuracy.")
    @Argument(help: "Run ids (a unique prefix is enough) or paths.") var runs: [String]
    @Option(help: "Runs folder.") var root = "experiments/runs"

    func validate() throws { guard runs.count >= 1 else { throw ValidationError("name at least one run") } }

    func run() throws {
        let summaries = try runs.map { r -> (String, [String: Any]) in
            let path = try RunRecords.resolve(r, root: root)
            guard let s = RunRecords.summary(path) else { throw ValidationError("\(path) has no summary.json yet (still running or failed)") }
            return ((path as NSString).lastPathComponent, s)
        }
        func row(_ label: String, _ value: ([String: Any]) -> String) {
            print(label.padding(toLength: 24, withPad: " ", startingAt: 0) + summaries.map { value($0.1).padding(toLength: 26, withPad: " ", startingAt: 0) }.joined())
        }
        func pct(_ v: Any?) -> String { (v as? Double).map { String(format: "%.1f %%", 100 * $0) } ?? "—" }
        row("run") { s in String((s["run"] as? String ?? "").suffix(25)) }
        row("strategy") { $0["strategy"] as? String ?? "?" }
        row("backbone") { $0["backbone"] as? String ?? "?" }
        func count(_ v: Any?) -> String {
            let n = v as? Int ?? 0
            return n >= 1_000_000 ? String(format: "%.2fM", Double(n) / 1e6) : n >= 10_000 ? String(format: "%.1fk", Double(n) / 1e3) : "\(n)"
        }
        row("trainable / total") { s in "\(count(s["trainable_params"])) / \(count(s["total_params"]))" }
        row("epochs (best)") { s in "\(s["epochs"] as? Int ?? 0) (\(s["best_epoch"] as? Int ?? 0))" }
        row("wall time") { s in String(format: "%.1f s", s["wall_s"] as? Double ?? 0) }
        row("val acc final / best") { s in "\(pct(s["final_val_acc"])) / \(pct(s["val_acc"]))" }
        row("binary final / best") { s in "\(pct(s["final_val_acc_binary"])) / \(pct(s["val_acc_binary"]))" }
        let classes = Array(Set(summaries.flatMap { ($0.1["per_class"] as? [String: Any])?.keys.map { $0 } ?? [] })).sorted()
        for c in classes { row("F1 \(c)") { s in ((s["per_class"] as? [String: Any])?[c] as? [String: Any]).flatMap { $0["f1"] as? Double }.map { String(format: "%.3f", $0) } ?? "—" } }
        let groups = Array(Set(summaries.flatMap { ($0.1["per_group_acc"] as? [String: Any])?.keys.map { $0 } ?? [] })).sorted()
        for g in groups { row("acc \(g)") { s in pct((s["per_group_acc"] as? [String: Any])?[g]) } }
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-evaluate a run's best checkpoint (head, and backbone when fine-tuned) on its validation split and print the confusion matrix.")
    @Argument(help: "Run id (a unique prefix is enough) or path.") var runID: String
    @Option(help: "Runs folder.") var root = "experiments/runs"

    func run() throws {
        let path = try RunRecords.resolve(runID, root: root)
        let m = try RunRecords.evaluate(path)
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
