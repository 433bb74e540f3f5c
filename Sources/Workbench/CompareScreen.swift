import Engine
import Foundation
import TerminalUI

/// What the compare screen shows: two or more runs, live, against a pinned baseline.
struct CompareView {
    enum Metric: String, CaseIterable { case valAccuracy = "val accuracy", valLoss = "val loss", trainLoss = "train loss" }
    enum XAxis: String { case epoch, time = "wall time" }

    /// Run folders in the order they were picked; their latest snapshots as the watcher posts them.
    var paths: [String]
    var runs: [String: WatchedRun] = [:]
    var baseline = 0
    var metric = Metric.valAccuracy
    var xAxis = XAxis.epoch
    var smoothing = false
    var allSettings = false
    /// Runs that differ only in their seed shown as one column each: mean ± standard deviation.
    var groupSeeds = false
    var scroll = 0

    var loaded: [WatchedRun] { paths.compactMap { runs[$0] } }
    var baselineRun: WatchedRun? { paths.indices.contains(baseline) ? runs[paths[baseline]] : nil }

    /// Whether the runs validated on the same images (same data, split fraction, seed and fold).
    var sameSplit: Bool { Set(loaded.map { SplitIdentity($0.config) }).count <= 1 }

    func values(_ run: WatchedRun) -> [ChartPoint] { values(of: [run]) }

    /// The chart's points for one run, or for a seed group the mean over its runs at each epoch that every
    /// run has reached (x: the epoch, or the runs' mean wall time at it).
    func values(of members: [WatchedRun]) -> [ChartPoint] {
        let epochs = members.map(\.history.epochs)
        let count = epochs.map(\.count).min() ?? 0
        guard count > 0 else { return [] }
        func mean(_ f: (TrainingEvent.Epoch) -> Double, at i: Int) -> Double { epochs.reduce(0) { $0 + f($1[i]) } / Double(epochs.count) }
        let metricValue: (TrainingEvent.Epoch) -> Double = switch metric {
        case .valAccuracy: { $0.valAccuracy }
        case .valLoss: { $0.valLoss }
        case .trainLoss: { $0.trainLoss }
        }
        let ys = (0..<count).map { mean(metricValue, at: $0) }
        let smoothed = smoothing ? LineChart.debiasedEMA(ys, smoothing: 0.6) : ys
        let xs = (0..<count).map { xAxis == .epoch ? Double(epochs[0][$0].epoch) : mean({ $0.elapsedSeconds }, at: $0) / 60 }
        return zip(xs, smoothed).map { ChartPoint(x: $0, y: $1) }
    }

    /// The loaded runs grouped by config with the seed left out (`SeedGroup`), in the order they were picked.
    var seedGroups: [SeedGroup] {
        let runs = loaded
        let classes = RunComparison.classOrder(runs.map { $0.history.start?.classes ?? $0.history.bestEpoch?.perClass.map(\.name) ?? [] })
        return SeedGroup.group(runs.map { SeedGroup.Member(id: $0.id, config: $0.config, best: $0.history.bestEpoch) }, classes: classes)
    }

    /// What the legend, the chart and the table show: one entry per run, or per seed group when grouping.
    /// `id` picks the colour (a group takes its first run's), `members` the runs behind it.
    struct Column { var id: String, name: String, members: [WatchedRun], isBaseline: Bool }

    var columns: [Column] {
        let runs = loaded, base = baselineRun?.path
        guard groupSeeds else {
            return runs.map { Column(id: $0.id, name: Self.shortName($0.id), members: [$0], isBaseline: $0.path == base) }
        }
        return seedGroups.map { g in
            let members = g.runs.compactMap { id in runs.first { $0.id == id } }
            let name = members.count == 1 ? Self.shortName(g.runs[0]) : "\(Self.shortName(g.runs[0])) \u{00D7}\(members.count)"
            return Column(id: g.runs[0], name: name, members: members, isBaseline: members.contains { $0.path == base })
        }
    }

    /// The table when grouping by seed: each group's runs and seeds, then its results as mean ± standard
    /// deviation over the runs that have a validated epoch.
    func seedRows(glyphs g: Glyphs) -> [(label: String, cells: [String], section: Bool)] {
        let groups = seedGroups
        var out: [(String, [String], Bool)] = []
        func row(_ label: String, _ f: (SeedGroup) -> String) { out.append((label, groups.map(f), false)) }
        out.append(("seed groups: mean \u{00B1} std over seeds (g: single runs)", groups.map { _ in "" }, true))
        row("  strategy") { $0.strategy }
        row("  runs") { "\($0.runs.count)" }
        row("  seeds") { $0.seeds.sorted().map(String.init).joined(separator: ", ") }
        out.append(("results (best epoch of each run)", groups.map { _ in "" }, true))
        row("  val accuracy %") { SeedGroup.text($0.valAccuracy, percent: true) }
        if groups.contains(where: { $0.valBinaryAccuracy != nil }) { row("  binary accuracy %") { SeedGroup.text($0.valBinaryAccuracy, percent: true) } }
        row("  val loss") { SeedGroup.text($0.valLoss, percent: false) }
        for (k, c) in (groups.first?.perClassF1.map(\.name) ?? []).enumerated() { row("  F1 \(c)") { SeedGroup.text($0.perClassF1[k].f1, percent: false) } }
        for grp in Set(groups.flatMap { $0.groups.keys }).sorted() { row("  \(grp) accuracy %") { SeedGroup.text($0.groups[grp], percent: true) } }
        return out
    }

    /// A run's short name in the legend and the table: its id without the date, or the whole id.
    static func shortName(_ id: String) -> String {
        let parts = id.split(separator: "-", maxSplits: 1)
        return parts.count == 2 && parts[0].count >= 15 ? String(parts[1]) : id
    }

    /// The comparison table: label, then one cell per run; numbers after the first run carry their
    /// difference to the baseline. Settings show only those that differ unless `allSettings`.
    func rows(glyphs g: Glyphs) -> [(label: String, cells: [String], section: Bool)] {
        let runs = loaded
        guard let base = baselineRun else { return [] }
        var out: [(String, [String], Bool)] = []
        func delta(_ v: Double?, _ b: Double?, percent: Bool, digits: Int = 1) -> String {
            guard let v else { return String(g.dash) }
            let text = percent ? String(format: "%.\(digits)f", 100 * v) : String(format: "%.2f", v)
            guard let d = RunComparison.delta(v, b), d != 0 else { return text }
            return text + String(format: percent ? " (%+.\(digits)f)" : " (%+.2f)", percent ? 100 * d : d)
        }
        func row(_ label: String, _ f: (WatchedRun) -> String) { out.append((label, runs.map(f), false)) }
        func section(_ label: String) { out.append((label, runs.map { _ in "" }, true)) }

        section(allSettings ? "settings (D: only those that differ)" : "settings that differ (D: all)")
        let settings = allSettings ? ConfigSettings.all : ConfigSettings.differing(runs.map(\.config))
        if settings.isEmpty { out.append(("  (none: the same config)", runs.map { _ in "" }, false)) }
        for s in settings { row("  " + s.name) { ConfigSettings.value(s, in: $0.config) } }

        section("cost")
        let choices = BackboneChoice.all(weightsDirectory: "")
        row("  trainable / total params") { r in
            guard let b = choices.first(where: { $0.name == r.config.backbone }) else { return String(g.dash) }
            let c = b.parameterCounts(r.config, classes: max(2, r.history.start?.classes.count ?? 2))
            return "\(formatCount(c.trainable)) / \(formatCount(c.total))"
        }
        row("  epochs done") { "\($0.history.epochs.last?.epoch ?? 0)/\($0.config.epochs)" }
        // Wall time includes the feature (or frozen-prefix) pass, which the epochs' clocks do not.
        row("  wall time") { r in
            guard let last = r.history.epochs.last else { return String(g.dash) }
            return formatDuration(last.elapsedSeconds + (r.history.featuresReady?.seconds ?? 0), glyphs: g)
        }
        row("  time per epoch") { r in
            let e = r.history.epochs.map(\.epochSeconds)
            return e.isEmpty ? String(g.dash) : formatDuration(e.reduce(0, +) / Double(e.count), glyphs: g)
        }
        row("  img/s") { r in r.history.throughput?.text ?? String(g.dash) }

        section("results (best epoch; difference to the baseline)")
        let b = base.history.bestEpoch
        row("  val accuracy %") { delta($0.history.bestEpoch?.valAccuracy, b?.valAccuracy, percent: true) }
        if runs.contains(where: { $0.history.bestEpoch?.valBinaryAccuracy != nil }) {
            row("  binary accuracy %") { delta($0.history.bestEpoch?.valBinaryAccuracy, b?.valBinaryAccuracy, percent: true) }
        }
        row("  best epoch") { "\($0.history.bestEpoch?.epoch ?? 0)" }
        let classes = RunComparison.classOrder(runs.map { $0.history.start?.classes ?? $0.history.bestEpoch?.perClass.map(\.name) ?? [] })
        for c in classes {
            row("  F1 \(c)") { r in
                delta(r.history.bestEpoch?.perClass.first { $0.name == c }?.f1, b?.perClass.first { $0.name == c }?.f1, percent: false)
            }
        }
        let groups = Set(runs.flatMap { $0.history.bestEpoch?.groups.keys.map { $0 } ?? [] }).sorted()
        for grp in groups {
            row("  \(grp) accuracy %") { r in delta(r.history.bestEpoch?.groups[grp]?.accuracy, b?.groups[grp]?.accuracy, percent: true) }
        }
        return out
    }

    /// For each run other than the baseline, the class whose F1 rose most and the one that fell most, and
    /// the subgroup that gained most: the sentence the comparison is for.
    func verdicts() -> [String] {
        guard let base = baselineRun?.history.bestEpoch else { return [] }
        return loaded.filter { $0.path != baselineRun?.path }.compactMap { r in
            guard let e = r.history.bestEpoch else { return nil }
            let deltas = e.perClass.compactMap { c in base.perClass.first { $0.name == c.name }.map { (name: c.name, delta: c.f1 - $0.f1) } }
            guard let clause = RunComparison.moversClause(deltas, digits: 2) else { return nil }
            var text = "\(Self.shortName(r.id)): \(clause)"
            let g = e.groups.compactMap { k, v in base.groups[k].map { (k, v.accuracy - $0.accuracy) } }.max { $0.1 < $1.1 }
            if let g { text += String(format: "; %@ accuracy %+.1f points", g.0, 100 * g.1) }
            return text
        }
    }
}

/// The compare screen: overlaid curves (one stable colour, or marker, per run), x by epoch or wall time,
/// optional smoothing, and a table of the settings that differ, the cost and the results with their
/// differences to a pinned baseline.
enum CompareScreen {
    static func keyTable(_ v: CompareView?) -> KeyTable<Action> {
        Chrome.combined(KeyTable(title: "compare", bindings: [
            KeyBinding(keys: [.up, .char("k")], hintKeys: [.up, .down], hint: "scroll", description: "scroll the table", priority: 4, action: .up),
            KeyBinding(keys: [.down, .char("j")], description: "scroll the table down", action: .down),
            KeyBinding(keys: [.char("m")], hint: "metric", description: "chart: validation accuracy, validation loss, training loss", priority: 7, action: .metric),
            KeyBinding(keys: [.char("t")], hint: "epoch/time", description: "x axis: epoch or wall time (minutes)", priority: 6, action: .timeAxis),
            KeyBinding(keys: [.char("s")], hint: "smoothing", description: "smooth the curves (debiased EMA 0.6) or not", priority: 5, action: .smoothing),
            KeyBinding(keys: [.char("p")], hint: "pin baseline", description: "make the next run the baseline the differences are against", priority: 6, action: .pinBaseline),
            KeyBinding(keys: [.char("D")], hint: "all settings", description: "show every setting, not only those that differ", priority: 3, action: .allSettings),
            KeyBinding(keys: [.char("g")], hint: "group seeds", description: "group runs that differ only in their seed: mean \u{00B1} standard deviation", priority: 3, action: .groupSeeds),
        ]), screen: .compare)
    }

    static func render(_ s: WorkbenchState, into canvas: Canvas, theme: Theme) {
        let g = theme.glyphs, w = canvas.width, h = canvas.height
        guard let v = s.compare else { return }
        let runs = v.loaded
        let split = v.sameSplit ? "same split \(g.check)" : "DIFFERENT SPLITS: not comparable"
        Chrome.title("compare \(runs.count) runs \(g.horizontal) \(split)", right: "baseline: \(v.baselineRun.map { CompareView.shortName($0.id) } ?? "—")",
                     into: canvas, theme: theme)
        if !v.sameSplit { canvas.put(" DIFFERENT SPLITS: not comparable", x: 0, y: 0, style: theme.error, glyphs: g) }
        // Legend: one colour (or marker) per run, stable across sessions (hashed from the run id).
        var x = 1
        let columns = v.columns
        for c in columns {
            let style = theme.colors ? Style(fg: Palette.runColor(for: c.id), bold: true) : .bold
            let mark = theme.colors ? "■" : String(Palette.runMarker(for: c.id, glyphs: g))
            let state = c.members.count == 1 ? c.members[0].state.label : "mean of \(c.members.count)"
            let label = "\(mark) \(c.name)\(c.isBaseline && !v.groupSeeds ? " (baseline)" : "") \(state)  "
            canvas.put(label, x: x, y: 1, style: style, maxWidth: w - x, glyphs: g)
            x += label.count
        }
        canvas.put("x: \(v.xAxis.rawValue)  smoothing: \(v.smoothing ? "on" : "off")", x: max(x, w - 32), y: 1, style: theme.dim, maxWidth: 32, glyphs: g)
        let chartHeight = max(7, (h - 4) * 2 / 5)
        let chartRect = Rect(x: 0, y: 2, width: w, height: chartHeight)
        canvas.box(chartRect, title: v.metric.rawValue, style: theme.border, titleStyle: theme.heading, glyphs: g)
        let series = columns.map { c in
            ChartSeries(name: c.id, points: v.values(of: c.members), style: theme.colors ? Style(fg: Palette.runColor(for: c.id)) : .plain,
                        marker: Palette.runMarker(for: c.id, glyphs: g))
        }
        LineChart(series: series.filter { !$0.points.isEmpty }, mode: theme.chartMode,
                  yTickFormat: v.metric == .valAccuracy ? { String(format: "%.0f%%", 100 * $0) } : nil)
            .render(into: canvas, rect: chartRect.inset(by: 1), glyphs: g)

        // The table, then the verdicts.
        let verdicts = v.groupSeeds ? [] : v.verdicts()
        let tableRect = Rect(x: 0, y: chartRect.maxY, width: w, height: h - 2 - chartRect.maxY - min(verdicts.count, 2))
        let rows = v.groupSeeds ? v.seedRows(glyphs: g) : v.rows(glyphs: g)
        let labelWidth = 28, colWidth = max(14, (w - labelWidth - 2) / max(1, columns.count))
        for (i, c) in columns.enumerated() {
            canvas.put(c.name, x: labelWidth + i * colWidth, y: tableRect.y,
                       style: theme.colors ? Style(fg: Palette.runColor(for: c.id), bold: true) : .bold, maxWidth: colWidth - 1, glyphs: g)
        }
        let visible = max(0, tableRect.height - 1)
        let start = max(0, min(v.scroll, rows.count - visible))
        for (k, row) in rows.dropFirst(start).prefix(visible).enumerated() {
            let y = tableRect.y + 1 + k
            canvas.put(row.label, x: 1, y: y, style: row.section ? theme.heading : theme.dim, maxWidth: row.section ? w - 2 : labelWidth - 2, glyphs: g)
            guard !row.section else { continue }
            for (i, cell) in row.cells.enumerated() {
                canvas.put(cell, x: labelWidth + i * colWidth, y: y, maxWidth: colWidth - 1, glyphs: g)
            }
        }
        for (i, line) in verdicts.prefix(2).enumerated() {
            canvas.put(" " + line, x: 0, y: tableRect.maxY + i, style: theme.ok, maxWidth: w, glyphs: g)
        }
        Chrome.status(s.status, into: canvas, theme: theme)
        Chrome.hints(keyTable(v), into: canvas, theme: theme)
    }
}
