import Engine
import Foundation
import TerminalUI

/// The runs screen: every run folder with its state, strategy, backbone, best accuracy and time; `/` filters,
/// Enter opens, R resumes, d deletes (after asking), Space marks runs for comparison.
enum RunsScreen {
    static func keyTable(_ s: WorkbenchState) -> KeyTable<Action> {
        if s.filtering {
            return KeyTable(title: "filter", bindings: [
                KeyBinding(keys: [.enter], hint: "keep filter", description: "keep the filter and go back to the list", priority: 9, action: .open),
                KeyBinding(keys: [.escape], hint: "clear", description: "clear the filter", priority: 9, action: .back),
            ])
        }
        var b: [KeyBinding<Action>] = [
            KeyBinding(keys: [.up, .char("k")], hintKeys: [.up, .down], hint: "move", description: "previous run", priority: 5, action: .up),
            KeyBinding(keys: [.down, .char("j")], description: "next run", action: .down),
            KeyBinding(keys: [.enter], hint: "open", description: "watch the selected run: curves, groups, events", priority: 9, action: .open),
            KeyBinding(keys: [.char("/")], hint: "filter", description: "filter runs by id, state, strategy, backbone or dataset", priority: 6, action: .filter),
        ]
        if let r = s.selectedRun {
            if r.state.canResume { b.append(KeyBinding(keys: [.char("R")], hint: "resume", description: "continue the selected run from its last checkpoint", priority: 7, action: .resume)) }
            if r.state == .running || r.state == .paused {
                b.append(KeyBinding(keys: [.char("x")], hint: "stop", description: "stop the selected run with a checkpoint", priority: 4, action: .stop))
            }
        }
        if let r = s.selectedRun, r.epochsDone > 0 {
            b.append(KeyBinding(keys: [.char("r")], hint: "results", description: "the selected run's per-class results and worst mistakes", priority: 8, action: .results))
        }
        b.append(KeyBinding(keys: [.char("c")], hint: "compare", description: "compare the marked runs (default: the latest feature-extraction and fine-tuning runs)", priority: 7, action: .compare))
        b.append(KeyBinding(keys: [.char(" ")], hint: "mark", description: "mark or unmark the run for comparison", priority: 3, action: .mark))
        b.append(KeyBinding(keys: [.char("d")], hint: "delete", description: "delete the selected run's folder (asks first)", priority: 2, action: .delete))
        return Chrome.combined(KeyTable(title: "runs", bindings: b), screen: .runs)
    }

    static func render(_ s: WorkbenchState, into canvas: Canvas, theme: Theme) {
        let g = theme.glyphs, w = canvas.width, h = canvas.height
        let training = s.trainingRuns.count
        Chrome.title("runs", right: "\(s.runs.count) runs" + (training > 0 ? ", \(training) training" : "") + (s.marked.isEmpty ? "" : ", \(s.marked.count) marked"),
                     into: canvas, theme: theme)
        var y = 1
        if s.filtering || !s.runsFilter.isEmpty {
            canvas.put(" / ", x: 0, y: y, style: theme.key)
            canvas.put(s.runsFilter + (s.filtering ? "_" : ""), x: 3, y: y, maxWidth: w - 4, glyphs: g)
            y += 1
        }
        let rows = s.visibleRuns
        let detailHeight = 3
        let rect = Rect(x: 0, y: y, width: w, height: h - y - 2 - detailHeight)
        canvas.box(rect, title: "runs", style: theme.focusedBorder, titleStyle: theme.heading, glyphs: g)
        let inner = rect.inset(by: 1)
        if rows.isEmpty {
            canvas.put(s.runs.isEmpty ? "no runs yet: n sets one up" : "no run matches '\(s.runsFilter)'", x: inner.x + 2, y: inner.y + 1, style: theme.dim, glyphs: g)
        }
        // The backbone column comes only when there is room; the selected run's line below always names it.
        let wide = inner.width >= 110
        var table = Table(columns: [TableColumn("", width: 1), TableColumn("state", width: 11), TableColumn("run"), TableColumn("strategy", width: 18)]
                                   + (wide ? [TableColumn("backbone", width: 18)] : [])
                                   + [TableColumn("best val", width: 8, alignment: .right),
                                      TableColumn("epochs", width: 7, alignment: .right), TableColumn("time", width: 6, alignment: .right)],
                          rows: rows.map { r in
                              [s.marked.contains(r.path) ? String(g.bullet) : " ", r.state.label, r.id, r.strategy] + (wide ? [r.backbone] : []) + [
                               r.bestAccuracy.map { formatPercent($0, glyphs: g) } ?? String(g.dash), "\(r.epochsDone)/\(r.epochs)",
                               r.wallSeconds.map { formatDuration($0, glyphs: g) } ?? String(g.dash)]
                          }, selected: rows.isEmpty ? nil : s.runsSelection, header: true)
        table.rowStyles = rows.map { theme.state($0.state.label) }
        table.scrollOffset = Table.scrollOffset(selected: s.runsSelection, current: 0, visibleRows: table.visibleRowCount(in: inner))
        table.render(into: canvas, rect: inner, glyphs: g)
        // The selected run in words: why it failed, how far it is, how to continue it.
        if let r = s.selectedRun {
            let dy = rect.maxY
            canvas.put(" \(r.id)", x: 0, y: dy, style: theme.heading, maxWidth: w, glyphs: g)
            canvas.put(" " + ([r.dataset, r.backbone, r.detail].filter { !$0.isEmpty }.joined(separator: " \(g.dash) ")), x: 0, y: dy + 1,
                       style: theme.state(r.state.label), maxWidth: w, glyphs: g)
            if let b = r.bestBinaryAccuracy { canvas.put(" binary accuracy (best epoch) \(formatPercent(b, glyphs: g))", x: 0, y: dy + 2, style: theme.dim, maxWidth: w, glyphs: g) }
        }
        Chrome.status(s.status, into: canvas, theme: theme)
        Chrome.hints(keyTable(s), into: canvas, theme: theme)
    }
}
