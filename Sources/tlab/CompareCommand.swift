import ArgumentParser
import Engine
import Foundation

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare runs side by side (running, stopped and failed ones too): the settings that differ, dataset, cost, results, per-class F1 and per-group accuracy, with the difference to the first run.",
        discussion: """
            The first run named is the baseline: every other run gets a Δ column with its difference to it \
            (accuracies in percentage points, F1 and loss as numbers). Only the settings that differ are shown \
            (learning rates per group, augmentation, schedule, …); classes appear in the dataset's own order. \
            Runs on different data or splits are flagged as not comparable.
            --json prints one JSON document: runs (each with settings, cost, results, per_class as a list of \
            {class, f1, f1_delta} and groups as name → {accuracy, accuracy_delta, n}), differing, classes, groups, comparable, \
            and seed_groups (runs whose settings differ only in their seed, with mean, std, min, max and n of each result).
            --seeds prints those groups instead of the single runs: mean ± sample standard deviation over the seeds.
            """)
    @Argument(help: "Run ids (a unique prefix is enough) or paths; the first is the baseline.") var ids: [String]
    @OptionGroup var folder: RunsFolder
    @Flag(help: "One JSON document instead of the table.") var json = false
    @Flag(help: "Group runs that differ only in their seed: mean ± standard deviation over the seeds.") var seeds = false

    func validate() throws { guard ids.count >= 1 else { throw ValidationError("name at least one run") } }

    func run() throws {
        let runs = try ids.map { try RunOverview.load(try RunRecords.resolve($0, root: folder.path)) }
        let comparison = RunComparison(runs)
        if json {
            print(try JSONLines.string(comparison))
            return
        }
        if !comparison.comparable {
            print("warning: these runs did not use the same data and split (dataset, validation fraction, seed or fold differ); their numbers are not comparable\n")
        }
        if seeds {
            print(TextTable.render(Self.seedRows(comparison)))
            return
        }
        print(TextTable.render(Self.rows(comparison)))
        for line in Self.movers(comparison) { print(line) }
        if comparison.hasRepeatedSeeds {
            print("\nsome runs repeat one config with other seeds: --seeds shows their mean ± standard deviation")
        }
    }

    /// The table: a label column, the baseline's values, then per other run its values and a Δ column.
    static func rows(_ c: RunComparison) -> [[String]] {
        var rows: [[String]] = []
        func row(_ label: String, _ value: (RunComparison.Run) -> String, delta: ((RunComparison.Run) -> String)? = nil) {
            var cells = [label]
            for (i, r) in c.runs.enumerated() {
                cells.append(value(r))
                if i > 0 { cells.append(delta?(r) ?? "") }
            }
            rows.append(cells)
        }
        var header = [""]
        for (i, r) in c.runs.enumerated() { header.append(i == 0 ? r.run + " (baseline)" : r.run); if i > 0 { header.append("Δ") } }
        rows.append(header)
        row("state") { $0.state }
        row("strategy") { $0.strategy }
        row("backbone") { $0.backbone }
        row("dataset") { $0.settings["dataset"] ?? $0.dataset }
        for name in c.differing where name != "dataset" && name != "backbone" { row(name) { $0.settings[name] ?? "—" } }
        row("trainable / total params") { r in
            guard let t = r.cost.trainableParameters, let n = r.cost.totalParameters else { return "—" }
            return "\(count(t)) / \(count(n))"
        }
        row("wall time") { seconds($0.cost.wallSeconds) }
        row("time per epoch") { seconds($0.cost.epochSeconds) }
        row("img/s") { $0.cost.throughput?.text ?? "—" }
        row("epochs (best)") { r in "\(r.results.epochsDone)/\(r.results.epochs) (\(r.results.bestEpoch.map(String.init) ?? "—"))" }
        row("val acc (best epoch)", { pct($0.results.valAccuracy) }, delta: { points($0.results.valAccuracyDelta) })
        if c.runs.contains(where: { $0.results.valBinaryAccuracy != nil }) {
            row("binary acc (best epoch)", { pct($0.results.valBinaryAccuracy) }, delta: { points($0.results.valBinaryAccuracyDelta) })
        }
        row("val loss", { num($0.results.valLoss, 4) }, delta: { signed($0.results.valLossDelta, 4) })
        row("macro F1", { num($0.results.macroF1, 3) }, delta: { signed($0.results.macroF1Delta, 3) })
        for (k, name) in c.classes.enumerated() {
            row("F1 \(name)", { num($0.perClass[k].f1, 3) }, delta: { signed($0.perClass[k].f1Delta, 3) })
        }
        for g in c.groups {
            row("acc \(g)", { r in
                guard let a = r.groups[g], let acc = a.accuracy else { return "—" }
                return pct(acc) + (a.n.map { " of \($0)" } ?? "")
            }, delta: { points($0.groups[g]?.accuracyDelta) })
        }
        return rows
    }

    /// One column per seed group: its runs and seeds, then each result as mean ± standard deviation (n runs).
    static func seedRows(_ c: RunComparison) -> [[String]] {
        let groups = c.seedGroups
        var rows: [[String]] = [[""] + groups.map(\.label)]
        func row(_ label: String, _ value: (SeedGroup) -> String) { rows.append([label] + groups.map(value)) }
        row("runs") { $0.runs.joined(separator: " ") }
        row("seeds") { $0.seeds.sorted().map(String.init).joined(separator: ", ") }
        row("val acc %") { SeedGroup.text($0.valAccuracy, percent: true) }
        if groups.contains(where: { $0.valBinaryAccuracy != nil }) { row("binary acc %") { SeedGroup.text($0.valBinaryAccuracy, percent: true) } }
        row("val loss") { SeedGroup.text($0.valLoss, percent: false, digits: 4) }
        for (k, name) in c.classes.enumerated() { row("F1 \(name)") { SeedGroup.text($0.perClassF1[k].f1, percent: false) } }
        for g in c.groups { row("acc \(g) %") { SeedGroup.text($0.groups[g], percent: true) } }
        return rows
    }

    /// Per other run, the class whose F1 it improved most and the one it hurt most against the baseline.
    static func movers(_ c: RunComparison) -> [String] {
        c.runs.dropFirst().compactMap { r in
            RunComparison.moversClause(r.perClass.compactMap { s in s.f1Delta.map { (s.name, $0) } }, digits: 3).map { "\(r.run) vs baseline: \($0)" }
        }
    }

    static func pct(_ v: Double?) -> String { v.map { String(format: "%.1f %%", 100 * $0) } ?? "—" }
    static func points(_ v: Double?) -> String { v.map { String(format: "%+.1f pp", 100 * $0) } ?? "" }
    static func num(_ v: Double?, _ digits: Int) -> String { v.map { String(format: "%.\(digits)f", $0) } ?? "—" }
    static func signed(_ v: Double?, _ digits: Int) -> String { v.map { String(format: "%+.\(digits)f", $0) } ?? "" }
    static func seconds(_ v: Double?) -> String { v.map { String(format: $0 < 1 ? "%.3f s" : "%.1f s", $0) } ?? "—" }
    static func count(_ n: Int) -> String {
        n >= 1_000_000 ? String(format: "%.2fM", Double(n) / 1e6) : n >= 10_000 ? String(format: "%.1fk", Double(n) / 1e3) : "\(n)"
    }
}

/// Plain-text columns sized to their content (two spaces between columns), so no name runs into a number.
enum TextTable {
    /// `rightAligned`: column indices whose cells are right-aligned (numbers).
    static func render(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        let columns = rows.map(\.count).max() ?? 0
        let widths = (0..<columns).map { i in rows.map { i < $0.count ? $0[i].count : 0 }.max() ?? 0 }
        return rows.map { cells in
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return rightAligned.contains(i) ? pad + cell : (i == cells.count - 1 ? cell : cell + pad)
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }
}
