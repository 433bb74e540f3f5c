import XCTest
import Engine
import TerminalUI
@testable import Workbench

/// The workbench's screens rendered off-screen from hand-built state, read back as text and cells.
final class WorkbenchScreenTests: XCTestCase {
    let theme = Theme(colors: true, glyphs: .unicode)
    let paths = ExperimentPaths()

    func backbones() -> [BackboneChoice] {
        BackboneChoice.all(weightsDirectory: "/nonexistent").enumerated().map { i, b in var b = b; b.weightsPresent = i == 0; return b }
    }

    func form(_ preset: ExperimentConfig.Preset = .featureExtraction) -> SetupForm {
        var f = SetupForm(backbones: backbones(), backbone: "efficientnet_lite0", dataset: .elpv, preset: preset, paths: paths)
        f.dataset = DatasetPreview(name: "elpv", images: 2624, classes: [("p=0", 1508), ("p=1/3", 295), ("p=2/3", 106), ("p=1", 715)],
                                   groups: [("mono", 1074), ("poly", 1550)], train: 1968, validation: 656)
        return f
    }

    func testSetupStartsAsFeatureExtractionAndEditingARowMakesItCustom() {
        var f = form()
        XCTAssertEqual(f.preset, .featureExtraction)
        XCTAssertTrue(f.config.groups.values.allSatisfy { !$0.trainable })
        XCTAssertNil(f.problem)
        f.toggleTrained(group: "final")
        XCTAssertNil(f.preset, "editing a group row turns the preset into custom")
        XCTAssertEqual(f.config.groups["final"]?.trainable, true)
        XCTAssertEqual(f.config.groups["final"]?.learningRate, f.config.head.learningRate / 10, "a group unfrozen by hand gets the fine-tune-top ratio")
        f.cyclePreset(1)
        XCTAssertEqual(f.preset, .featureExtraction, "after custom, s starts the presets from the first")
        f.cyclePreset(1)
        XCTAssertEqual(f.preset, .fineTuneTop)
        XCTAssertEqual(f.config.groups["intermediate"]?.learningRate ?? 0, 1e-5, accuracy: 1e-12)
    }

    func testATypedLearningRateIsRefusedInPlaceWithTheReason() {
        var f = form(.fineTuneTop)
        f.beginEditing(.learningRate(group: "final"))
        f.editor?.field = TextField(text: "fast")
        f.commitEdit(paths: paths)
        XCTAssertEqual(f.editor?.field.error, "'fast' is not a positive number (e.g. 1e-4)")
        f.editor?.field = TextField(text: "2e-4")
        f.commitEdit(paths: paths)
        XCTAssertNil(f.editor)
        XCTAssertEqual(f.config.groups["final"]?.learningRate, 2e-4)
        XCTAssertNil(f.preset)
        // A frozen group's rate cannot be typed before it trains.
        f.beginEditing(.learningRate(group: "early"))
        XCTAssertNil(f.editor)
        XCTAssertEqual(f.problem, "early is frozen: Space trains it first")
        // An option outside its range: the validator's words stay in the field.
        f.beginEditing(.option(.epochs))
        f.editor?.field = TextField(text: "0")
        f.commitEdit(paths: paths)
        XCTAssertEqual(f.editor?.field.error, "'0': epochs must be a whole number in 1…10000")
    }

    func testTheHeadRateKeepsThePresetRatios() {
        var f = form(.fineTuneTop)
        f.beginEditing(.learningRate(group: "head"))
        f.editor?.field = TextField(text: "0.01")
        f.commitEdit(paths: paths)
        XCTAssertEqual(f.preset, .fineTuneTop)
        XCTAssertEqual(f.config.groups["final"]?.learningRate ?? 0, 1e-3, accuracy: 1e-12)
        XCTAssertEqual(f.config.groups["intermediate"]?.learningRate ?? 0, 1e-4, accuracy: 1e-12)
    }

    func testAGradualRunShowsTheEpochEachGroupUnfreezes() {
        let f = form(.gradual)
        XCTAssertEqual(f.unfreezeEpoch("final"), 4)
        XCTAssertEqual(f.unfreezeEpoch("intermediate"), 7)
        XCTAssertEqual(f.unfreezeEpoch("early"), 10)
    }

    func testABackboneWithoutWeightsCannotStartAndSaysHowToImport() {
        var f = form()
        f.selectBackbone(2)
        XCTAssertEqual(f.backbone.name, "resnet18")
        XCTAssertTrue(f.startProblem?.contains("tlab import FILE.pth --arch resnet18") == true, f.startProblem ?? "")
    }

    func render(_ state: WorkbenchState, width: Int, height: Int) -> Canvas {
        let c = Canvas(width: width, height: height)
        switch state.screen {
        case .setup: SetupScreen.render(state, into: c, theme: theme)
        case .run: RunScreen.render(state, into: c, theme: theme)
        case .runs: RunsScreen.render(state, into: c, theme: theme)
        }
        return c
    }

    func testTheSetupScreenShowsEveryGroupRowAndFitsAt80x24() {
        let state = WorkbenchState(screen: .setup, setup: form(.fineTuneTop))
        for (w, h) in [(80, 24), (120, 40)] {
            let c = render(state, width: w, height: h)
            let text = c.text
            XCTAssertTrue(c.line(0).hasPrefix(" tlab ─ new experiment"), c.line(0))
            for row in ["early", "intermediate", "final", "new head"] { XCTAssertTrue(text.contains(row), "\(row) at \(w)×\(h):\n\(text)") }
            XCTAssertTrue(text.contains("[fine-tune-top]"))
            XCTAssertTrue(text.contains("efficientnet_lite0"))
            XCTAssertTrue(text.contains("p=2/3"))
            XCTAssertTrue(c.line(h - 1).contains("? help"), c.line(h - 1))
            XCTAssertTrue(c.line(h - 1).contains("start"), c.line(h - 1))
            XCTAssertTrue(text.contains("1e-5"), "intermediate lr of fine-tune-top:\n\(text)")
        }
    }

    /// A run's history built by hand: charts get points, the progress bar and title say where it is, and the
    /// unfreeze shows as a marker.
    func testTheRunScreenDrawsTheHistory() {
        var h = RunHistory()
        h.apply(.started(.init(run: "r1", strategy: "gradual", backbone: "efficientnet_lite0", dataset: "elpv", train: 100, validation: 30, classes: ["a", "b"])))
        for e in 1...3 {
            h.apply(.epoch(.init(epoch: e, epochs: 8, step: 4 * e, trainLoss: 1.0 / Double(e), trainAccuracy: 0.5 + 0.1 * Double(e),
                                 valLoss: 1.1 / Double(e), valAccuracy: 0.45 + 0.1 * Double(e))))
        }
        h.apply(.unfroze(.init(epoch: 4, groups: ["final"], trainableGroups: ["final"])))
        h.apply(.step(.init(epoch: 4, step: 14, epochStep: 2, stepsPerEpoch: 4, loss: 0.3, imagesPerSecond: 16.8, etaSeconds: 372,
                            learningRates: ["head": 1e-3, "final": 1e-4, "intermediate": 0, "early": 0])))
        var config = ExperimentConfig.preset(.gradual, backbone: "efficientnet_lite0", dataset: .elpv)
        config.epochs = 8
        var state = WorkbenchState(screen: .run, setup: form())
        state.watched = WatchedRun(id: "r1", path: "/tmp/r1", config: config, state: .running, history: h, log: ["epoch 3  val 75.0%  loss 0.367"])
        let c = render(state, width: 100, height: 30)
        let text = c.text
        XCTAssertTrue(c.line(0).contains("r1 ─ running ─ epoch 4/8 step 2/4 ─ 16.8 img/s ─ ETA 6m12s"), c.line(0))
        XCTAssertTrue(text.contains("unfroze final"), text)
        XCTAssertTrue(text.contains("epoch 3  val 75.0%"), text)
        XCTAssertTrue(text.contains("epoch 4 step 2/4"), "progress bar label:\n\(text)")
        XCTAssertTrue(c.line(29).contains("p pause") && c.line(29).contains("x stop"), c.line(29))
        // Braille dots were drawn in the loss chart's area.
        let braille = (1..<16).flatMap { y in (1..<49).map { c[x: $0, y: y].char } }.filter { ($0.unicodeScalars.first!.value & 0xFF00) == 0x2800 }
        XCTAssertGreaterThan(braille.count, 3)
        // final trains at 1e-4 = ×0.1 of the head.
        XCTAssertTrue(text.contains("final        trained 1e-4   ×0.1"), text)
    }

    /// A step schedule's drops show as markers on the epoch charts.
    func testAStepScheduleMarksTheEpochsItsLearningRateDrops() {
        var h = RunHistory()
        for e in 1...4 {
            h.apply(.epoch(.init(epoch: e, epochs: 4, step: e, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1, valAccuracy: 0.5,
                                 learningRates: ["head": e <= 2 ? 1e-3 : 1e-4])))
        }
        var config = ExperimentConfig.preset(.featureExtraction, backbone: "efficientnet_lite0", dataset: .elpv)
        config.schedule = .step(every: 2, gamma: 0.1)
        let run = WatchedRun(id: "r", path: "/r", config: config, state: .finished, history: h, log: [])
        XCTAssertEqual(RunScreen.learningRateSteps(run).map(\.epoch), [3])
        config.schedule = .constant
        XCTAssertTrue(RunScreen.learningRateSteps(WatchedRun(id: "r", path: "/r", config: config, state: .finished, history: h, log: [])).isEmpty)
        var state = WorkbenchState(screen: .run, setup: form())
        state.watched = run
        XCTAssertTrue(render(state, width: 100, height: 30).text.contains("lr ×0.1"))
    }

    func testTheRunsScreenListsFiltersAndExplainsTheSelectedRun() {
        var state = WorkbenchState(screen: .runs, setup: form())
        state.runs = [
            RunRow(id: "20261124T0800-fine-tune-top", path: "/r/a", state: .failed("cell1.png: not a PNG file", resumable: false), strategy: "fine-tuning",
                   backbone: "efficientnet_lite0", dataset: "elpv", bestAccuracy: 0.7, bestBinaryAccuracy: nil, epochsDone: 1, epochs: 8, wallSeconds: 130,
                   detail: "cell1.png: not a PNG file"),
            RunRow(id: "20261124T0700-feature-extraction", path: "/r/b", state: .finished, strategy: "feature-extraction", backbone: "efficientnet_lite0",
                   dataset: "elpv", bestAccuracy: 0.762, bestBinaryAccuracy: 0.852, epochsDone: 100, epochs: 100, wallSeconds: 86, detail: ""),
        ]
        var c = render(state, width: 100, height: 30)
        XCTAssertTrue(c.text.contains("failed"), c.text)
        XCTAssertTrue(c.text.contains("cell1.png: not a PNG file"), "the selected run's reason is spelled out:\n\(c.text)")
        XCTAssertFalse(c.line(29).contains("resume"), "a failed run that cannot resume offers no R")
        state.runsFilter = "feature"
        state.runsSelection = 0
        c = render(state, width: 100, height: 30)
        XCTAssertFalse(c.text.contains("fine-tune-top"))
        XCTAssertTrue(c.text.contains("76.2%"), c.text)
    }

    func testTheHelpOverlayIsGeneratedFromTheKeyTable() {
        let table = SetupScreen.keyTable(form())
        let help = HelpOverlay(table, glyphs: .unicode)
        let c = Canvas(width: 100, height: 30)
        help.render(into: c, glyphs: .unicode)
        for b in table.bindings { XCTAssertTrue(c.text.contains(b.description), "help lists '\(b.description)'") }
        var filtered = help
        for ch in "preset" { _ = filtered.handle(.char(ch), area: c.bounds) }
        let f = Canvas(width: 100, height: 30)
        filtered.render(into: f, glyphs: .unicode)
        XCTAssertTrue(f.text.contains("previous preset"))
        XCTAssertFalse(f.text.contains("quit"))
    }

    func testEveryScreenBindsHelpAndQuitAndNoKeyTwice() {
        var state = WorkbenchState(screen: .runs, setup: form())
        state.runs = []
        var options = form(); options.focus = .options
        var dataset = form(); dataset.focus = .dataset
        for table in [SetupScreen.keyTable(form()), SetupScreen.keyTable(options), SetupScreen.keyTable(dataset), RunScreen.keyTable(nil),
                      RunsScreen.keyTable(state)] {
            XCTAssertEqual(table.action(for: .char("?")), .help, table.title)
            XCTAssertEqual(table.action(for: .char("q")), .quit, table.title)
            let keys = table.bindings.flatMap(\.keys)
            XCTAssertEqual(keys.count, Set(keys).count, "\(table.title): a key bound twice never reaches its second action")
        }
    }
}
