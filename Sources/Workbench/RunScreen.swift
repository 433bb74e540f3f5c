import Engine
import Foundation
import TerminalUI

/// The run screen: one run live (or finished): loss and accuracy per epoch, the step loss, every group's
/// state and learning rate, the event log and a progress bar. Reads only the run's folder.
enum RunScreen {
    static func keyTable(_ run: WatchedRun?) -> KeyTable<Action> {
        var b: [KeyBinding<Action>] = []
        if let run {
            switch run.state {
            case .running:
                b.append(KeyBinding(keys: [.char("p"), .char(" ")], hint: "pause", description: "pause the run between steps", priority: 7, action: .pauseOrContinue))
                b.append(KeyBinding(keys: [.char("x")], hint: "stop", description: "stop the run with a checkpoint (resume it later)", priority: 6, action: .stop))
            case .paused:
                b.append(KeyBinding(keys: [.char("p"), .char(" ")], hint: "continue", description: "continue the paused run", priority: 7, action: .pauseOrContinue))
                b.append(KeyBinding(keys: [.char("x")], hint: "stop", description: "stop the run with a checkpoint (resume it later)", priority: 6, action: .stop))
            default:
                if run.state.canResume {
                    b.append(KeyBinding(keys: [.char("R")], hint: "resume", description: "continue the run from its last checkpoint", priority: 7, action: .resume))
                }
            }
        }
        if run?.history.epochs.isEmpty == false {
            b.append(KeyBinding(keys: [.char("r")], hint: "results", description: "per-class results, confusion, subgroups and the worst mistakes with their images", priority: 8, action: .results))
            b.append(KeyBinding(keys: [.char("c")], hint: "compare", description: "compare the marked runs (default: the latest feature-extraction and fine-tuning runs)", priority: 6, action: .compare))
        }
        return Chrome.combined(KeyTable(title: "run", bindings: b), screen: .run)
    }

    static func render(_ s: WorkbenchState, into canvas: Canvas, theme: Theme) {
        let g = theme.glyphs, w = canvas.width, h = canvas.height
        guard let run = s.watched else {
            Chrome.title("run", into: canvas, theme: theme)
            canvas.put("reading \(s.watchedPath ?? "the run")…", x: 2, y: 2, style: theme.dim, maxWidth: w - 4, glyphs: g)
            Chrome.status(s.status, into: canvas, theme: theme)
            Chrome.hints(keyTable(nil), into: canvas, theme: theme)
            return
        }
        let hist = run.history
        Chrome.title(titleText(run, glyphs: g), into: canvas, theme: theme)
        // The charts take what the bottom row (four group lines, the step loss, the events) leaves.
        let bottomHeight = max(7, min(12, (h - 4) / 3))
        let chartHeight = h - 4 - bottomHeight
        let charts = Rect(x: 0, y: 1, width: w, height: chartHeight)
        let (lossRect, accRect) = charts.splitHorizontally(leftWidth: w / 2)
        let epochs = hist.epochs
        let markers = hist.unfreezes.map { ChartMarker(x: Double($0.epoch) - 0.5, label: "unfroze \($0.groups.joined(separator: ", "))") }
            + learningRateSteps(run).map { ChartMarker(x: Double($0.epoch) - 0.5, label: "lr \(theme.glyphs.times)\(formatRate($0.factor, glyphs: g))") }
        let xRange: ClosedRange<Double>? = epochs.count >= 1 ? 1...Double(max(2, run.config.epochs)) : nil
        func chart(_ title: String, _ train: [Double], _ val: [Double], percent: Bool, rect: Rect) {
            canvas.box(rect, title: title, style: theme.border, titleStyle: theme.heading, glyphs: g)
            if epochs.isEmpty, let p = hist.progress {
                canvas.put("curves start after the \(p.phase == "features" ? "feature" : "frozen-prefix") pass", x: rect.x + 2, y: rect.y + rect.height / 2,
                           style: theme.dim, maxWidth: rect.width - 4, glyphs: g)
                return
            }
            let xs = epochs.map { Double($0.epoch) }
            let series = [
                ChartSeries(name: "train", points: zip(xs, train).map { ChartPoint(x: $0, y: $1) }, style: theme.trainSeries, marker: theme.trainMarker),
                ChartSeries(name: "val", points: zip(xs, val).map { ChartPoint(x: $0, y: $1) }, style: theme.validationSeries, marker: theme.validationMarker),
            ]
            let inner = rect.inset(by: 1)
            let legendHeight = 1
            // Percent ticks with a decimal when the curves span only a few points (so no two ticks read alike).
            let values = (train + val).filter(\.isFinite)
            let span = (values.max() ?? 0) - (values.min() ?? 0)
            let percentFormat = span < 0.05 ? "%.1f%%" : "%.0f%%"
            LineChart(series: epochs.isEmpty ? [] : series, markers: markers, xRange: xRange, mode: theme.chartMode,
                      yTickFormat: percent ? { String(format: percentFormat, 100 * $0) } : nil)
                .render(into: canvas, rect: Rect(x: inner.x, y: inner.y + legendHeight, width: inner.width, height: inner.height - legendHeight), glyphs: g)
            legend(series, into: canvas, x: inner.maxX - 22, y: inner.y, theme: theme)
        }
        chart("loss", epochs.map(\.trainLoss), epochs.map(\.valLoss), percent: false, rect: lossRect)
        chart("accuracy", epochs.map(\.trainAccuracy), epochs.map(\.valAccuracy), percent: true, rect: accRect)

        // Bottom row: groups, step loss, events.
        let bottom = Rect(x: 0, y: charts.maxY, width: w, height: h - 3 - charts.maxY)
        let groupsWidth = 35, eventsWidth = max(22, (w - groupsWidth) / 2)
        let groupsRect = Rect(x: 0, y: bottom.y, width: groupsWidth, height: bottom.height)
        let eventsRect = Rect(x: w - eventsWidth, y: bottom.y, width: eventsWidth, height: bottom.height)
        let stepRect = Rect(x: groupsWidth, y: bottom.y, width: w - groupsWidth - eventsWidth, height: bottom.height)
        renderGroups(run, into: canvas, rect: groupsRect, theme: theme)
        renderStepLoss(run, into: canvas, rect: stepRect, theme: theme)
        canvas.box(eventsRect, title: "events", style: theme.border, titleStyle: theme.heading, glyphs: g)
        let eventsInner = eventsRect.inset(horizontal: 1, vertical: 1)
        for (i, line) in run.log.suffix(eventsInner.height).enumerated() {
            canvas.put(line, x: eventsInner.x, y: eventsInner.y + i, style: line.hasPrefix("FAILED") ? theme.error : .plain,
                       maxWidth: eventsInner.width, glyphs: g)
        }

        let (fraction, label) = progress(run)
        ProgressBar.render(fraction: fraction, label: label, into: canvas, rect: Rect(x: 1, y: h - 3, width: w - 2, height: 1), style: theme.bar, glyphs: g)
        var fallback = ""
        if case .failed(let reason, _) = run.state { fallback = "failed: \(reason)" }
        if run.state == .finished, let best = hist.bestEpoch {
            fallback = String(format: "finished: best epoch %d, val acc %.1f%%", best.epoch, 100 * best.valAccuracy)
                + (best.valBinaryAccuracy.map { String(format: ", binary %.1f%%", 100 * $0) } ?? "")
        }
        if case .failed(let reason, _) = run.state, s.status == nil {
            Chrome.status(StatusMessage(text: "failed: \(reason)", isError: true, until: .distantFuture), into: canvas, theme: theme)
        } else {
            Chrome.status(s.status, fallback: fallback, into: canvas, theme: theme)
        }
        Chrome.hints(keyTable(run), into: canvas, theme: theme)
    }

    /// Epochs whose head learning rate jumped from the previous epoch's (a step schedule): a marker each.
    /// Continuous schedules (cosine, one-cycle) change every step and get none.
    static func learningRateSteps(_ run: WatchedRun) -> [(epoch: Int, factor: Double)] {
        guard case .step = run.config.schedule else { return [] }
        let e = run.history.epochs
        return zip(e, e.dropFirst()).compactMap { a, b in
            guard let before = a.learningRates["head"], let after = b.learningRates["head"], before > 0, abs(after / before - 1) > 0.01 else { return nil }
            return (b.epoch, after / before)
        }
    }

    static func legend(_ series: [ChartSeries], into canvas: Canvas, x: Int, y: Int, theme: Theme) {
        var cx = x
        for s in series {
            let mark = theme.colors ? "──" : String(repeating: s.marker, count: 2)
            canvas.put(mark, x: cx, y: y, style: s.style, glyphs: theme.glyphs); cx += 3
            canvas.put(s.name, x: cx, y: y, glyphs: theme.glyphs); cx += s.name.count + 2
        }
    }

    static func titleText(_ run: WatchedRun, glyphs g: Glyphs) -> String {
        let d = " \(g.horizontal) "
        var parts = [run.id, run.state.label]
        let h = run.history
        if let p = h.progress, run.state == .running || run.state == .paused {
            parts.append("\(p.phase) \(p.done)/\(p.total)")
            parts.append(String(format: "%.1f img/s", p.imagesPerSecond))
            parts.append("ETA " + formatDuration(p.etaSeconds, glyphs: g))
        } else if let s = h.lastStep, run.state == .running || run.state == .paused, s.epoch > (h.epochs.last?.epoch ?? 0) {
            parts.append("epoch \(s.epoch)/\(run.config.epochs) step \(s.epochStep)/\(s.stepsPerEpoch)")
            parts.append(String(format: "%.1f img/s", s.imagesPerSecond))
            parts.append("ETA " + formatDuration(s.etaSeconds, glyphs: g))
        } else {
            parts.append("epoch \(h.epochs.last?.epoch ?? 0)/\(run.config.epochs)")
        }
        return parts.joined(separator: d)
    }

    /// How far the run is (the feature pass, then epochs and steps) and the bar's label.
    static func progress(_ run: WatchedRun) -> (Double, String) {
        let h = run.history, total = Double(max(1, run.config.epochs))
        if let p = h.progress {
            return (Double(p.done) / Double(max(1, p.total)), String(format: "%@ %d/%d  %.1f img/s", p.phase, p.done, p.total, p.imagesPerSecond))
        }
        let done = Double(h.epochs.last?.epoch ?? 0)
        var fraction = done / total
        var label = "epoch \(Int(done))/\(run.config.epochs)"
        if let s = h.lastStep, s.epoch > Int(done), run.state == .running || run.state == .paused {
            fraction = (Double(s.epoch - 1) + Double(s.epochStep) / Double(max(1, s.stepsPerEpoch))) / total
            label = "epoch \(s.epoch) step \(s.epochStep)/\(s.stepsPerEpoch)"
        }
        if run.state == .finished { fraction = 1 }
        return (fraction, label + String(format: "  %.0f%%", 100 * fraction))
    }

    static func renderGroups(_ run: WatchedRun, into canvas: Canvas, rect: Rect, theme: Theme) {
        let g = theme.glyphs
        canvas.box(rect, title: "groups", style: theme.border, titleStyle: theme.heading, glyphs: g)
        let inner = rect.inset(horizontal: 1, vertical: 1)
        let h = run.history
        let epochIndex = max(0, min(run.config.epochs - 1, (h.lastStep?.epoch ?? (h.epochs.last?.epoch ?? 0) + 1) - 1))
        let policies = run.config.policies(atEpoch: epochIndex)
        let rates = h.lastStep?.learningRates ?? h.epochs.last?.learningRates ?? [:]
        let head = rates["head"] ?? run.config.head.learningRate
        for (i, name) in (ExperimentConfig.groupOrder + ["head"]).enumerated() where i < inner.height {
            let trainable = name == "head" || policies[name]?.trainable == true
            let rate = rates[name] ?? (name == "head" ? run.config.head.learningRate : policies[name]?.learningRate ?? 0)
            let rateText = trainable ? formatRate(rate, glyphs: g) : String(g.dash)
            let ratio = trainable && head > 0 ? "\(g.times)" + formatRate(rate / head, glyphs: g) : ""
            let line = name.padding(toLength: 13, withPad: " ", startingAt: 0) + (trainable ? "trained " : "frozen  ")
                + rateText.padding(toLength: 7, withPad: " ", startingAt: 0) + ratio
            canvas.put(line, x: inner.x, y: inner.y + i, style: trainable ? .plain : theme.dim, maxWidth: inner.width, glyphs: g)
        }
    }

    static func renderStepLoss(_ run: WatchedRun, into canvas: Canvas, rect: Rect, theme: Theme) {
        let g = theme.glyphs
        canvas.box(rect, title: "step loss (EMA 0.9)", style: theme.border, titleStyle: theme.heading, glyphs: g)
        let inner = rect.inset(by: 1)
        let steps = run.history.stepLosses
        if steps.isEmpty && run.history.start?.strategy == "feature-extraction" {
            canvas.put("the head trains on cached features:", x: inner.x + 1, y: inner.y + 1, style: theme.dim, maxWidth: inner.width - 1, glyphs: g)
            canvas.put("one step per batch, no per-step log", x: inner.x + 1, y: inner.y + 2, style: theme.dim, maxWidth: inner.width - 1, glyphs: g)
            return
        }
        let xs = steps.map { Double($0.step) }, raw = steps.map(\.loss)
        let smooth = LineChart.debiasedEMA(raw, smoothing: 0.9)
        let perEpoch = run.history.lastStep?.stepsPerEpoch ?? 0
        let markers = perEpoch > 0 ? run.history.unfreezes.map { ChartMarker(x: Double(($0.epoch - 1) * perEpoch) + 0.5, label: "unfroze \($0.groups.joined(separator: ","))") } : []
        LineChart(series: steps.isEmpty ? [] : [
            ChartSeries(name: "raw", points: zip(xs, raw).map { ChartPoint(x: $0, y: $1) }, style: theme.dim, marker: "·"),
            ChartSeries(name: "ema", points: zip(xs, smooth).map { ChartPoint(x: $0, y: $1) }, style: theme.validationSeries, marker: theme.validationMarker),
        ], markers: markers, mode: theme.chartMode).render(into: canvas, rect: inner, glyphs: g)
    }
}
