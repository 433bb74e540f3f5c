import Engine
import Foundation
import TerminalUI

/// The setup screen: backbone, dataset, strategy per layer group, run options. One Enter starts the run.
enum SetupScreen {
    static func keyTable(_ form: SetupForm) -> KeyTable<Action> {
        if form.editor != nil {
            return KeyTable(title: "editing", bindings: [
                KeyBinding(keys: [.enter], hint: "apply", description: "apply the typed value (refused in place if invalid)", priority: 9, action: .start),
                KeyBinding(keys: [.escape], hint: "cancel", description: "cancel typing", priority: 9, action: .back),
            ])
        }
        var b: [KeyBinding<Action>] = [
            KeyBinding(keys: [.up, .char("k")], hintKeys: [.up, .down], hint: "move", description: "previous row", priority: 5, action: .up),
            KeyBinding(keys: [.down, .char("j")], description: "next row", action: .down),
        ]
        switch form.focus {
        case .backbone:
            break
        case .dataset:
            b.append(KeyBinding(keys: [.char("e")], hint: "type a folder or CSV", description: "type the dataset: elpv, an image folder or a CSV manifest", priority: 7, action: .editDataset))
        case .groups:
            b.append(KeyBinding(keys: [.char(" ")], hint: "frozen/trained", description: "freeze or train the selected group", priority: 7, action: .toggleTrained))
            b.append(KeyBinding(keys: [.char("e")], hint: "edit lr", description: "type the selected group's learning rate", priority: 7, action: .edit))
            b.append(KeyBinding(keys: [.char("b")], hint: "batchnorm", description: "cycle the group's BatchNorm mode (frozen, stats-only, train)", priority: 4, action: .cycleBatchNorm))
        case .options:
            b.append(KeyBinding(keys: [.left, .char("h")], hintKeys: [.left, .right], hint: "change", description: "previous choice / smaller", priority: 7, action: .left))
            b.append(KeyBinding(keys: [.right, .char("l")], description: "next choice / larger", action: .right))
            b.append(KeyBinding(keys: [.char("e")], hint: "type", description: "type the selected value", priority: 6, action: .edit))
        }
        b += [
            KeyBinding(keys: [.tab], hint: "pane", description: "next pane (backbone, dataset, groups, options)", priority: 6, action: .focusNext),
            KeyBinding(keys: [.backTab], description: "previous pane", action: .focusPrevious),
            KeyBinding(keys: [.char("s")], hint: "strategy", description: "next preset: feature extraction, fine-tune-top, fine-tune-all, gradual", priority: 8, action: .cyclePreset),
            KeyBinding(keys: [.char("S")], description: "previous preset", action: .previousPreset),
            KeyBinding(keys: [.enter], hint: "start", description: "start the run (in the background; watch it here)", priority: 10, action: .start),
            KeyBinding(keys: [.char("d")], description: "type the dataset (from any pane): elpv, an image folder or a CSV manifest", action: .editDataset),
        ] + OptionKey.allCases.map { key in
            KeyBinding(keys: [.char(key.hotkey)], description: "\(key.rawValue): " + (key.isTyped ? "type a value" : "next choice") + " (from any pane)", action: .option(key))
        } + [
            KeyBinding(keys: [.char("w")], hint: "write config", description: "write the config to experiments/ for `tlab train --config`", priority: 3, action: .writeConfig),
        ]
        return Chrome.combined(KeyTable(title: "setup", bindings: b), screen: .setup)
    }

    static func render(_ s: WorkbenchState, into canvas: Canvas, theme: Theme) {
        let form = s.setup, g = theme.glyphs
        let training = s.trainingRuns.count
        Chrome.title("new experiment", right: "runs: \(s.runs.count)" + (training > 0 ? " (\(training) training)" : ""), into: canvas, theme: theme)
        let w = canvas.width, h = canvas.height
        let strategyHeight = 7, optionsHeight = 6
        let topHeight = max(6, min(form.backbones.count + 3, h - 3 - strategyHeight - optionsHeight))
        let top = Rect(x: 0, y: 1, width: w, height: topHeight)
        let (left, right) = top.splitHorizontally(leftWidth: w >= 100 ? 44 : 37)
        renderBackbones(form, into: canvas, rect: left, theme: theme)
        renderDataset(form, into: canvas, rect: right, theme: theme)
        renderGroups(form, into: canvas, rect: Rect(x: 0, y: top.maxY, width: w, height: strategyHeight), theme: theme)
        renderOptions(form, into: canvas, rect: Rect(x: 0, y: top.maxY + strategyHeight, width: w, height: optionsHeight), theme: theme)
        // Status: what is being typed is wrong, or why the run cannot start, or the latest message.
        if let err = form.editor?.field.error {
            Chrome.status(StatusMessage(text: err, isError: true, until: .distantFuture), into: canvas, theme: theme)
        } else if s.status == nil, let problem = form.startProblem {
            Chrome.status(StatusMessage(text: problem, isError: true, until: .distantFuture), into: canvas, theme: theme)
        } else {
            // The preset names the group policies; what the engine will run can differ (augmentation makes even
            // an all-frozen config train on images), so say so.
            let strategy = Experiment.strategy(of: form.config).rawValue
            let label: String
            if form.preset == nil { label = "custom, runs as \(strategy)" }
            else if form.preset == .featureExtraction && strategy != "feature-extraction" { label = "feature-extraction groups, runs as \(strategy) (augmented images)" }
            else { label = form.presetLabel }
            Chrome.status(s.status, fallback: "\(label): trains \(formatCount(form.trainableParameters)) of \(formatCount(form.totalParameters)) parameters \(g.dash) Enter starts it", into: canvas, theme: theme)
        }
        Chrome.hints(keyTable(form), into: canvas, theme: theme)
    }

    static func pane(_ title: String, _ rect: Rect, focused: Bool, into canvas: Canvas, theme: Theme) {
        canvas.box(rect, title: title, style: focused ? theme.focusedBorder : theme.border, titleStyle: focused ? theme.focusedBorder : theme.heading, glyphs: theme.glyphs)
    }

    static func renderBackbones(_ form: SetupForm, into canvas: Canvas, rect: Rect, theme: Theme) {
        pane("Backbone", rect, focused: form.focus == .backbone, into: canvas, theme: theme)
        let inner = rect.inset(by: 1)
        let rows = form.backbones.map { b in
            [b.name, formatCount(b.parameters), String(format: "%.1fG", b.gflops), "\(b.resolution)", String(b.weightsPresent ? theme.glyphs.check : theme.glyphs.cross)]
        }
        let styles: [Style?] = form.backbones.map { $0.weightsPresent ? nil : theme.dim }
        // Narrow terminals drop the resolution column before the name gets cut.
        let wide = inner.width >= 40
        var table = Table(columns: [TableColumn("name"), TableColumn("params", width: 6, alignment: .right), TableColumn("flops", width: 5, alignment: .right)]
                                   + (wide ? [TableColumn("res", width: 3, alignment: .right)] : []) + [TableColumn("w", width: 1)],
                          rows: wide ? rows : rows.map { $0.enumerated().filter { $0.offset != 3 }.map(\.element) }, rowStyles: styles,
                          selected: form.backboneRow, header: true)
        table.scrollOffset = Table.scrollOffset(selected: form.backboneRow, current: 0, visibleRows: table.visibleRowCount(in: inner))
        table.render(into: canvas, rect: inner, glyphs: theme.glyphs)
    }

    static func renderDataset(_ form: SetupForm, into canvas: Canvas, rect: Rect, theme: Theme) {
        pane("Dataset", rect, focused: form.focus == .dataset, into: canvas, theme: theme)
        let inner = rect.inset(horizontal: 2, vertical: 1)
        var y = inner.y
        if let e = form.editor, e.target == .dataset {
            canvas.put("path:", x: inner.x, y: y, style: theme.heading)
            e.field.render(into: canvas, x: inner.x + 6, y: y, width: inner.width - 6, glyphs: theme.glyphs, focused: true)
            y += 1
        }
        let d = form.dataset
        if let err = d.error {
            canvas.put(err, x: inner.x, y: y, style: theme.error, maxWidth: inner.width, glyphs: theme.glyphs)
            return
        }
        let split = form.config.split
        let splitText = split.folds.map { "fold \(split.fold + 1)/\($0)" } ?? "\(Int((100 * (1 - split.validationFraction)).rounded()))/\(Int((100 * split.validationFraction).rounded())) stratified"
        if y < inner.maxY {
            canvas.put(d.name, x: inner.x, y: y, style: theme.heading, glyphs: theme.glyphs)
            canvas.put("  \(d.images) images, \(d.classes.count) classes", x: inner.x + d.name.count, y: y, maxWidth: inner.width - d.name.count, glyphs: theme.glyphs)
            y += 1
        }
        // The split goes on the last line, so the class bars keep the middle.
        let splitLine = "split \(splitText), seed \(split.seed): \(d.train) train / \(d.validation) val"
        canvas.put(splitLine, x: inner.x, y: inner.maxY - 1, style: theme.dim, maxWidth: inner.width, glyphs: theme.glyphs)
        let maxCount = max(1, d.classes.map(\.count).max() ?? 1)
        let nameWidth = min(12, d.classes.map(\.name.count).max() ?? 4)
        let roomForClasses = inner.maxY - 1 - y - (d.groups.isEmpty ? 0 : 1)
        // One class per line with a long bar when they fit; else two per line; else as many as fit and a count.
        let perLine = d.classes.count <= roomForClasses ? 1 : 2
        let columnWidth = inner.width / perLine
        let lines = min(roomForClasses, (d.classes.count + perLine - 1) / perLine)
        for i in 0..<(lines * perLine) where i < d.classes.count {
            let c = d.classes[i]
            let line = i / perLine, x = inner.x + (i % perLine) * columnWidth
            if line == lines - 1 && i == lines * perLine - 1 && d.classes.count > lines * perLine {
                canvas.put("… \(d.classes.count - i) more classes", x: x, y: y + line, style: theme.dim, glyphs: theme.glyphs)
                break
            }
            canvas.put(c.name, x: x, y: y + line, maxWidth: nameWidth, glyphs: theme.glyphs)
            canvas.put(String(format: "%5d", c.count), x: x + nameWidth + 1, y: y + line)
            let barWidth = max(0, columnWidth - nameWidth - 9)
            let bar = ProgressBar.bar(fraction: Double(c.count) / Double(maxCount), width: barWidth, glyphs: theme.glyphs)
            canvas.put(bar.filled, x: x + nameWidth + 8, y: y + line, style: theme.bar, glyphs: theme.glyphs)
        }
        y += lines
        if !d.groups.isEmpty, y < inner.maxY - 1 {
            canvas.put("subgroups: " + d.groups.map { "\($0.name) \($0.count)" }.joined(separator: ", "), x: inner.x, y: y, style: theme.dim,
                       maxWidth: inner.width, glyphs: theme.glyphs)
        }
    }

    static func renderGroups(_ form: SetupForm, into canvas: Canvas, rect: Rect, theme: Theme) {
        let g = theme.glyphs
        let presets = ExperimentConfig.Preset.allCases.map { $0 == form.preset ? "[\($0.rawValue)]" : $0.rawValue }.joined(separator: " ")
        pane("Strategy: \(presets)\(form.preset == nil ? " [custom]" : "")", rect, focused: form.focus == .groups, into: canvas, theme: theme)
        let inner = rect.inset(by: 1)
        let c = form.config
        let headLR = c.head.learningRate
        let gradual = c.unfreezeEvery != nil
        let rows: [[String]] = SetupForm.rows.map { row in
            if row == "head" {
                return ["new head", form.headDescription(), formatCount(form.parameters("head")), "trained", formatRate(headLR, glyphs: g), "1", String(g.dash), String(g.dash)]
            }
            let p = c.groups[row] ?? .frozen
            let unfreeze = form.unfreezeEpoch(row).map { "epoch \($0)" } ?? String(g.dash)
            let lr = p.trainable ? p.learningRate.map { formatRate($0, glyphs: g) } ?? "?" : (gradual && form.unfreezeEpoch(row) != nil ? formatRate(c.gradualLearningRate(for: row), glyphs: g) : String(g.dash))
            let ratio: String = {
                let rate = p.trainable ? p.learningRate : (gradual && form.unfreezeEpoch(row) != nil ? c.gradualLearningRate(for: row) : nil)
                guard let r = rate, headLR > 0 else { return String(g.dash) }
                return formatRate(r / headLR, glyphs: g)
            }()
            let layers = form.backbone.groupLayers[row] ?? ""
            return [row, layers, formatCount(form.parameters(row)), p.trainable ? "trained" : (gradual ? "frozen→" : "frozen"), lr, ratio, p.batchNorm.rawValue, unfreeze]
        }
        var table = Table(columns: [TableColumn("group", width: 12), TableColumn("layers"), TableColumn("params", width: 6, alignment: .right),
                                    TableColumn("policy", width: 7), TableColumn("lr", width: 7, alignment: .right), TableColumn("×head", width: 6, alignment: .right),
                                    TableColumn("batchnorm", width: 10), TableColumn("unfreezes", width: 9)],
                          rows: rows, selected: form.focus == .groups ? form.groupRow : nil, header: true)
        table.rowStyles = SetupForm.rows.map { row in row == "head" || c.groups[row]?.trainable == true ? nil : theme.dim }
        table.render(into: canvas, rect: inner, glyphs: g)
        // A learning rate being typed sits in its own cell.
        if let e = form.editor, case .learningRate(let group) = e.target, let row = SetupForm.rows.firstIndex(of: group) {
            let widths = table.columnWidths(totalWidth: inner.width)
            let x = inner.x + Table.gutterWidth + widths[0..<4].reduce(0, +) + 4
            e.field.render(into: canvas, x: x, y: inner.y + 1 + row, width: widths[4] + 7, glyphs: g, focused: true)
        }
    }

    static func renderOptions(_ form: SetupForm, into canvas: Canvas, rect: Rect, theme: Theme) {
        pane("Options", rect, focused: form.focus == .options, into: canvas, theme: theme)
        let inner = rect.inset(horizontal: 1, vertical: 1)
        let keys = OptionKey.allCases
        let perColumn = max(1, inner.height)
        let columns = (keys.count + perColumn - 1) / perColumn
        let colWidth = inner.width / max(1, columns)
        for (i, key) in keys.enumerated() {
            let x = inner.x + (i / perColumn) * colWidth, y = inner.y + i % perColumn
            let selected = form.focus == .options && form.optionRow == i
            // Each option shows the key that reaches it from anywhere on the screen.
            canvas.put(String(key.hotkey), x: x + 1, y: y, style: theme.key, glyphs: theme.glyphs)
            let label = key.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)
            canvas.put(label, x: x + 3, y: y, style: selected ? theme.selected : theme.dim, glyphs: theme.glyphs)
            if let e = form.editor, e.target == .option(key) {
                e.field.render(into: canvas, x: x + 18, y: y, width: colWidth - 19, glyphs: theme.glyphs, focused: true)
            } else {
                canvas.put(key.value(form.config), x: x + 18, y: y, style: selected ? theme.heading : .plain, maxWidth: colWidth - 18, glyphs: theme.glyphs)
            }
        }
    }
}
