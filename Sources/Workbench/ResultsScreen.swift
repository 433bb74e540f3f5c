import Engine
import Foundation
import ImageData
import TerminalUI

/// What the results screen shows of one run: its validation report (every image at the best epoch) and its
/// per-epoch numbers, the epoch on view, the focused pane and the selections.
struct ResultsView {
    enum Pane: Int, CaseIterable { case classes, mistakes }
    enum SortKey: String, CaseIterable { case order = "class order", f1 = "F1", precision, recall, support }

    var id: String, path: String
    var report: ValidationReport?
    var history: RunHistory
    var problem: String?
    /// Index into `history.epochs`; nil shows the best epoch.
    var epochIndex: Int?
    var focus: Pane = .mistakes
    var normalised = false
    var sort: SortKey = .order
    /// Show only mistakes whose true class is this one.
    var classFilter: Int?
    var selection = 0
    /// The decoded image of the selected mistake, kept while it stays selected.
    var image: (file: String, image: Image?, error: String?)?

    static func load(path: String, history: RunHistory) -> ResultsView {
        var v = ResultsView(id: (path as NSString).lastPathComponent, path: path, report: nil, history: history)
        do { v.report = try RunRecords.validation(path) } catch { v.problem = "\(error)" }
        if v.report == nil && v.problem == nil { v.problem = "no validated epoch yet" }
        return v
    }

    var epoch: TrainingEvent.Epoch? {
        if let i = epochIndex, history.epochs.indices.contains(i) { return history.epochs[i] }
        return history.bestEpoch
    }
    var isBestEpoch: Bool { epoch?.epoch == history.bestEpoch?.epoch }
    var classes: [String] { report?.classes ?? history.start?.classes ?? epoch?.perClass.map(\.name) ?? [] }

    /// Wrongly classified validation images of the report, highest loss first, filtered by true class.
    var mistakes: [ValidationSample] {
        (report?.samples ?? []).filter { $0.truth != $0.prediction && (classFilter == nil || $0.truth == classFilter) }.sorted { $0.loss > $1.loss }
    }

    var sortedClasses: [TrainingEvent.ClassScore] {
        let scores = epoch?.perClass ?? []
        switch sort {
        case .order: return scores
        case .f1: return scores.sorted { $0.f1 > $1.f1 }
        case .precision: return scores.sorted { $0.precision > $1.precision }
        case .recall: return scores.sorted { $0.recall > $1.recall }
        case .support: return scores.sorted { $0.support > $1.support }
        }
    }

    mutating func selectedImage() -> (ValidationSample, Image?, String?)? {
        let m = mistakes
        guard m.indices.contains(selection) else { return nil }
        let s = m[selection]
        if image?.file != s.file {
            do { image = (s.file, try PNGCodec.decode(file: s.file), nil) } catch { image = (s.file, nil, "\(error)") }
        }
        return (s, image?.image, image?.error)
    }
}

/// The results screen: the confusion matrix as a heat map, precision / recall / F1 per class, accuracy per
/// subgroup with the gap, and the worst mistakes with the image itself and the class probabilities.
enum ResultsScreen {
    static func keyTable(_ v: ResultsView?) -> KeyTable<Action> {
        let b: [KeyBinding<Action>] = [
            KeyBinding(keys: [.up, .char("k")], hintKeys: [.up, .down], hint: "select", description: "previous mistake", priority: 6, action: .up),
            KeyBinding(keys: [.down, .char("j")], description: "next mistake", action: .down),
            KeyBinding(keys: [.left, .char("h")], hintKeys: [.left, .right], hint: "epoch", description: "previous / next epoch (the log has every epoch's numbers)", priority: 7, action: .left),
            KeyBinding(keys: [.right], description: "next epoch", action: .right),
            KeyBinding(keys: [.char("b")], description: "back to the best epoch", action: .bestEpoch),
            KeyBinding(keys: [.char("n")], hint: "normalise", description: "confusion matrix: counts or row-normalised (recall per true class)", priority: 5, action: .normalise),
            KeyBinding(keys: [.char("o")], hint: "sort", description: "sort the per-class table: class order, F1, precision, recall, support", priority: 4, action: .sort),
            KeyBinding(keys: [.char("f")], hint: "filter class", description: "show only mistakes of one true class (cycles through them)", priority: 5, action: .filterClass),
        ]
        return Chrome.combined(KeyTable(title: "results", bindings: b), screen: .results)
    }

    static func render(_ s: WorkbenchState, into canvas: Canvas, theme: Theme) {
        let g = theme.glyphs, w = canvas.width, h = canvas.height
        guard var v = s.results else { return }
        let epochText = v.epoch.map { "epoch \($0.epoch)" + (v.isBestEpoch ? " (best)" : "") } ?? "no epoch yet"
        Chrome.title("\(v.id) \(g.horizontal) results at \(epochText)", right: "\(g.arrowLeft)\(g.arrowRight) epochs", into: canvas, theme: theme)
        let classes = v.classes
        let topHeight = min(max(classes.count + 4, 7), (h - 3) / 2)
        let top = Rect(x: 0, y: 1, width: w, height: topHeight)
        let labelWidth = min(8, classes.map(\.count).max() ?? 3), cellWidth = w < 100 ? 5 : 7
        let confusionWidth = min(w / 3 + 4, labelWidth + 3 + cellWidth * classes.count + 1)
        let groupsWidth = min(30, w / 4)
        let confusionRect = Rect(x: 0, y: top.y, width: confusionWidth, height: topHeight)
        let groupsRect = Rect(x: w - groupsWidth, y: top.y, width: groupsWidth, height: topHeight)
        let classesRect = Rect(x: confusionWidth, y: top.y, width: w - confusionWidth - groupsWidth, height: topHeight)
        renderConfusion(v, into: canvas, rect: confusionRect, theme: theme)
        renderClasses(v, into: canvas, rect: classesRect, theme: theme)
        renderGroups(v, into: canvas, rect: groupsRect, theme: theme)
        let bottom = Rect(x: 0, y: top.maxY, width: w, height: h - 2 - top.maxY)
        let (listRect, imageRect) = bottom.splitHorizontally(leftWidth: max(36, w * 2 / 5))
        renderMistakes(&v, into: canvas, list: listRect, image: imageRect, theme: theme)
        Chrome.status(s.status, fallback: v.problem ?? (v.isBestEpoch ? "" : "mistakes and images are the best epoch's (\(v.history.bestEpoch?.epoch ?? 0)); b goes back to it"),
                      into: canvas, theme: theme)
        Chrome.hints(keyTable(v), into: canvas, theme: theme)
    }

    static func heat(_ fraction: Double, theme: Theme) -> (Style, Character) {
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        if theme.colors {
            // A blue ramp from the 256-colour cube: darker = fewer.
            let ramp: [UInt8] = [234, 17, 18, 19, 20, 21, 27, 33, 39]
            let i = min(ramp.count - 1, Int((fraction * Double(ramp.count - 1)).rounded()))
            return (Style(fg: .index(fraction > 0.5 ? 16 : 255), bg: .index(ramp[i])), " ")
        }
        return (.plain, shades[min(shades.count - 1, Int((fraction * Double(shades.count - 1)).rounded()))])
    }

    static func renderConfusion(_ v: ResultsView, into canvas: Canvas, rect: Rect, theme: Theme) {
        let g = theme.glyphs
        canvas.box(rect, title: "confusion (rows: truth)" + (v.normalised ? " %" : ""), style: theme.border, titleStyle: theme.heading, glyphs: g)
        let inner = rect.inset(horizontal: 1, vertical: 1)
        guard let m = v.epoch?.confusion else {
            if v.classes.count > TrainingEvent.Epoch.confusionClassLimit, let report = v.report {
                renderMostConfused(report, into: canvas, rect: rect, theme: theme)
            } else {
                canvas.put(v.epoch == nil ? "no epoch yet" : "no confusion matrix in this run's log", x: inner.x, y: inner.y, style: theme.dim, maxWidth: inner.width, glyphs: g)
            }
            return
        }
        let names = v.classes
        let labelWidth = min(8, names.map(\.count).max() ?? 3)
        let cellWidth = max(4, min(7, (inner.width - labelWidth - 1) / max(1, names.count)))
        // Counts above 999 would not fit a narrow cell: they show in the per-class table's n column instead.
        for (j, n) in names.enumerated() {
            canvas.put(String(n.prefix(cellWidth - 1)), x: inner.x + labelWidth + 1 + j * cellWidth, y: inner.y, style: theme.dim, glyphs: g)
        }
        for (i, row) in m.enumerated() where i + 1 < inner.height {
            let total = max(1, row.reduce(0, +))
            canvas.put(String(names[i].prefix(labelWidth)), x: inner.x, y: inner.y + 1 + i, style: theme.dim, glyphs: g)
            for (j, count) in row.enumerated() {
                let fraction = Double(count) / Double(total)
                let (style, shade) = heat(fraction, theme: theme)
                let x = inner.x + labelWidth + 1 + j * cellWidth
                let text = v.normalised ? String(format: "%.0f", 100 * fraction) : "\(count)"
                if theme.colors {
                    canvas.fill(Rect(x: x, y: inner.y + 1 + i, width: cellWidth - 1, height: 1), style: style)
                    canvas.put(text, x: x + cellWidth - 1 - text.count, y: inner.y + 1 + i, style: i == j ? style.bolded : style, glyphs: g)
                } else {
                    canvas.put(String(shade), x: x, y: inner.y + 1 + i)
                    canvas.put(text, x: x + cellWidth - 1 - text.count, y: inner.y + 1 + i, style: i == j ? .bold : .plain, glyphs: g)
                }
            }
        }
    }

    /// Above `confusionClassLimit` classes a matrix no longer fits: the class pairs confused most often
    /// instead (fastai's `most_confused`), from the validation report (the best epoch's images).
    static func renderMostConfused(_ report: ValidationReport, into canvas: Canvas, rect: Rect, theme: Theme) {
        let g = theme.glyphs
        canvas.box(rect, title: "most confused (\(report.classes.count) classes, best epoch)", style: theme.border, titleStyle: theme.heading, glyphs: g)
        let inner = rect.inset(by: 1)
        let pairs = report.metrics().mostConfused(limit: max(0, inner.height - 1))
        if pairs.isEmpty { canvas.put("none: every image was classified correctly", x: inner.x, y: inner.y, style: theme.dim, maxWidth: inner.width, glyphs: g); return }
        let rows = pairs.map { ["\($0.truth) \(g.arrowRight) \($0.predicted)", "\($0.count)", String(format: "%.0f%%", 100 * $0.rate)] }
        Table(columns: [TableColumn("truth \(g.arrowRight) predicted"), TableColumn("n", width: 4, alignment: .right), TableColumn("of truth", width: 8, alignment: .right)],
              rows: rows, header: true).render(into: canvas, rect: inner, glyphs: g)
    }

    static func renderClasses(_ v: ResultsView, into canvas: Canvas, rect: Rect, theme: Theme) {
        let g = theme.glyphs
        canvas.box(rect, title: "per class \(g.horizontal) sort: \(v.sort.rawValue)", style: theme.border, titleStyle: theme.heading, glyphs: g)
        let rows = v.sortedClasses.map { [$0.name, short($0.precision), short($0.recall), short($0.f1), "\($0.support)"] }
        Table(columns: [TableColumn("class"), TableColumn("prec", width: 4, alignment: .right), TableColumn("rec", width: 4, alignment: .right),
                        TableColumn("F1", width: 4, alignment: .right), TableColumn("n", width: 5, alignment: .right)], rows: rows, header: true)
            .render(into: canvas, rect: rect.inset(by: 1), glyphs: g)
        if let e = v.epoch, rect.height > rows.count + 3 {
            var line = String(format: "accuracy %.1f%%", 100 * e.valAccuracy)
            if let b = e.valBinaryAccuracy { line += String(format: "  binary %.1f%%", 100 * b) }
            canvas.put(line, x: rect.x + 3, y: rect.maxY - 2, style: theme.heading, maxWidth: rect.width - 4, glyphs: g)
        }
    }

    static func renderGroups(_ v: ResultsView, into canvas: Canvas, rect: Rect, theme: Theme) {
        let g = theme.glyphs
        canvas.box(rect, title: "subgroups", style: theme.border, titleStyle: theme.heading, glyphs: g)
        let inner = rect.inset(horizontal: 1, vertical: 1)
        let groups = (v.epoch?.groups ?? [:]).sorted { $0.key < $1.key }
        if groups.isEmpty { canvas.put("the dataset has none", x: inner.x, y: inner.y, style: theme.dim, maxWidth: inner.width, glyphs: g); return }
        for (i, (name, score)) in groups.enumerated() where i < inner.height - 1 {
            canvas.put(String(format: "%@ %.1f%% (n %d)", name, 100 * score.accuracy, score.n), x: inner.x, y: inner.y + i, maxWidth: inner.width, glyphs: g)
        }
        let accs = groups.map(\.value.accuracy)
        if accs.count > 1, let hi = accs.max(), let lo = accs.min() {
            canvas.put(String(format: "gap %.1f points", 100 * (hi - lo)), x: inner.x, y: inner.y + min(groups.count, inner.height - 1),
                       style: hi - lo > 0.05 ? theme.warning : theme.dim, maxWidth: inner.width, glyphs: g)
        }
    }

    static func renderMistakes(_ v: inout ResultsView, into canvas: Canvas, list: Rect, image: Rect, theme: Theme) {
        let g = theme.glyphs, names = v.classes
        let filter = v.classFilter.map { " \(g.horizontal) truth \(names[$0])" } ?? ""
        canvas.box(list, title: "worst mistakes (loss)\(filter)", style: theme.focusedBorder, titleStyle: theme.heading, glyphs: g)
        let m = v.mistakes
        let inner = list.inset(by: 1)
        if m.isEmpty {
            canvas.put(v.report == nil ? "no validation.json yet" : "no mistakes" + (v.classFilter == nil ? "" : " of this class"),
                       x: inner.x + 2, y: inner.y, style: theme.dim, glyphs: g)
        }
        var table = Table(columns: [TableColumn("image"), TableColumn("truth → predicted", width: 17), TableColumn("loss", width: 5, alignment: .right)],
                          rows: m.map { s in [(s.file as NSString).lastPathComponent, "\(name(names, s.truth)) \(g.arrowRight) \(name(names, s.prediction))",
                                              String(format: "%.2f", s.loss)] },
                          selected: m.isEmpty ? nil : v.selection, header: true)
        table.scrollOffset = Table.scrollOffset(selected: v.selection, current: 0, visibleRows: table.visibleRowCount(in: inner))
        table.render(into: canvas, rect: inner, glyphs: g)

        guard let (sample, picture, error) = v.selectedImage() else {
            canvas.box(image, title: "image", style: theme.border, titleStyle: theme.heading, glyphs: g)
            return
        }
        let title = "\((sample.file as NSString).lastPathComponent) \(g.horizontal) truth \(name(names, sample.truth)) \(g.horizontal) predicted \(name(names, sample.prediction))"
        canvas.box(image, title: title, style: theme.border, titleStyle: theme.heading, glyphs: g)
        let area = image.inset(by: 1)
        let probs = sample.probabilities ?? []
        let barsHeight = min(probs.count, max(0, area.height - 4))
        let picArea = Rect(x: area.x + 1, y: area.y, width: area.width - 2, height: area.height - barsHeight)
        if let picture {
            ImageCells.render(pixels: picture.pixels, width: picture.width, height: picture.height, channels: picture.channels == 1 ? 1 : 3,
                              into: canvas, rect: picArea, mode: ImageCells.Mode(theme.images), key: "\(sample.file) \(picArea.width)x\(picArea.height)")
        } else if let error {
            canvas.put(error, x: picArea.x, y: picArea.y, style: theme.error, maxWidth: picArea.width, glyphs: g)
        }
        // The class probabilities as bars, the true class marked.
        let labelWidth = min(10, names.map(\.count).max() ?? 3)
        for (i, p) in probs.enumerated() where i < barsHeight {
            let y = area.maxY - barsHeight + i
            let label = name(names, i)
            canvas.put(label, x: area.x + 1, y: y, style: i == sample.truth ? theme.heading : theme.dim, maxWidth: labelWidth, glyphs: g)
            let barWidth = max(0, area.width - labelWidth - 10)
            let bar = ProgressBar.bar(fraction: p, width: barWidth, glyphs: g)
            canvas.put(bar.filled, x: area.x + 2 + labelWidth, y: y, style: i == sample.prediction ? theme.error : theme.bar, glyphs: g)
            canvas.put(String(format: "%.2f", p), x: area.x + 3 + labelWidth + barWidth, y: y, glyphs: g)
        }
    }

    /// A score in [0, 1] in four characters: ".76", "1.00".
    static func short(_ x: Double) -> String { x >= 0.995 ? "1.00" : String(format: "%.2f", x).replacingOccurrences(of: "0.", with: ".") }

    static func name(_ names: [String], _ i: Int) -> String { names.indices.contains(i) ? names[i] : "#\(i)" }
}
