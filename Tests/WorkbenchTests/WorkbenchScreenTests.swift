import XCTest
import Engine
import TerminalUI
import ImageData
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
        App.draw(state, into: c, theme: theme)
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

extension WorkbenchScreenTests {
    /// The results screen from a hand-built report and log: the confusion matrix, per-class table, subgroup gap,
    /// the mistakes (worst first, filtered by class) and the selected one's image and probabilities.
    func testTheResultsScreenShowsConfusionClassesGroupsAndTheWorstMistakeWithItsImage() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-results-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = dir.appendingPathComponent("cell7.png").path
        try Data(try PNGCodec.encode(width: 8, height: 8, layout: .gray8, samples: [UInt8](repeating: 200, count: 64))).write(to: URL(fileURLWithPath: png))
        var h = RunHistory()
        h.apply(.started(.init(run: "r", strategy: "fine-tuning", backbone: "efficientnet_lite0", dataset: "d", train: 10, validation: 6, classes: ["ok", "bad"])))
        h.apply(.epoch(.init(epoch: 1, epochs: 2, step: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: 0.9, valAccuracy: 0.5,
                             perClass: [.init(name: "ok", precision: 0.5, recall: 0.67, f1: 0.57, support: 3), .init(name: "bad", precision: 0.5, recall: 0.33, f1: 0.4, support: 3)],
                             confusion: [[2, 1], [2, 1]], groups: ["mono": .init(accuracy: 0.75, n: 4), "poly": .init(accuracy: 0.0, n: 2)])))
        h.apply(.epoch(.init(epoch: 2, epochs: 2, step: 2, trainLoss: 1, trainAccuracy: 0.6, valLoss: 0.7, valAccuracy: 0.83,
                             perClass: [.init(name: "ok", precision: 0.75, recall: 1, f1: 0.86, support: 3), .init(name: "bad", precision: 1, recall: 0.67, f1: 0.8, support: 3)],
                             confusion: [[3, 0], [1, 2]], groups: ["mono": .init(accuracy: 1, n: 4), "poly": .init(accuracy: 0.5, n: 2)])))
        var v = ResultsView(id: "r", path: dir.path, report: ValidationReport(epoch: 2, classes: ["ok", "bad"], samples: [
            ValidationSample(index: 0, file: png, truth: 1, prediction: 0, loss: 2.5, probabilities: [0.92, 0.08], group: "poly"),
            ValidationSample(index: 1, file: "/missing.png", truth: 0, prediction: 1, loss: 0.8, probabilities: [0.45, 0.55], group: "mono"),
            ValidationSample(index: 2, file: png, truth: 0, prediction: 0, loss: 0.1, probabilities: [0.9, 0.1], group: "mono"),
        ]), history: h)
        var state = WorkbenchState(screen: .results, setup: form())
        state.results = v
        var c = render(state, width: 100, height: 30)
        XCTAssertTrue(c.line(0).contains("results at epoch 2 (best)"), c.line(0))
        XCTAssertTrue(c.text.contains("gap 50.0 points"), c.text)
        XCTAssertTrue(c.text.contains("cell7.png ─ truth bad ─ predicted ok"), "the worst mistake is selected:\n\(c.text)")
        XCTAssertTrue(c.text.contains("0.92"))
        // Its image: 8×8 gray 200 in half blocks (fg and bg the same gray).
        let blocks = c.cells.filter { $0.char == "▀" }
        XCTAssertFalse(blocks.isEmpty)
        XCTAssertTrue(blocks.allSatisfy { $0.style.fg == .index(ImageCells.xterm256((200, 200, 200))) && $0.style.bg == $0.style.fg })
        XCTAssertEqual(v.mistakes.map(\.index), [0, 1], "mistakes only, highest loss first")
        v.classFilter = 0
        XCTAssertEqual(v.mistakes.map(\.index), [1], "filtered by true class")
        // Another epoch: its own confusion matrix; the mistakes stay the best epoch's, and the screen says so.
        v.classFilter = nil
        v.epochIndex = 0
        state.results = v
        c = render(state, width: 100, height: 30)
        XCTAssertTrue(c.line(0).contains("results at epoch 1"), c.line(0))
        XCTAssertTrue(c.text.contains("gap 75.0 points"), c.text)
        XCTAssertTrue(c.text.contains("mistakes and images are the best epoch's (2)"), c.text)
    }
}

extension WorkbenchScreenTests {
    func compareRun(_ id: String, _ preset: ExperimentConfig.Preset, acc: Double, f1: [Double], mono: Double, seed: UInt64 = 0) -> WatchedRun {
        var h = RunHistory()
        h.apply(.started(.init(run: id, strategy: preset == .featureExtraction ? "feature-extraction" : "fine-tuning", backbone: "efficientnet_lite0",
                               dataset: "elpv", train: 1968, validation: 656, classes: ["p=0", "p=1"])))
        h.apply(.epoch(.init(epoch: 1, epochs: 1, step: 1, trainLoss: 0.5, trainAccuracy: 0.8, valLoss: 0.4, valAccuracy: acc, valBinaryAccuracy: acc,
                             perClass: zip(["p=0", "p=1"], f1).map { .init(name: $0, precision: $1, recall: $1, f1: $1, support: 10) },
                             groups: ["mono": .init(accuracy: mono, n: 10)], elapsedSeconds: 60, epochSeconds: 60, imagesPerSecond: 30)))
        var c = ExperimentConfig.preset(preset, backbone: "efficientnet_lite0", dataset: .elpv)
        c.epochs = 1; c.split.seed = seed
        return WatchedRun(id: id, path: "/runs/\(id)", config: c, state: .finished, history: h, log: [])
    }

    /// A feature-extraction run's epochs train a head on cached features; its speed is the feature pass's.
    func testThroughputOfAFeatureExtractionRunIsItsFeaturePass() {
        var fe = compareRun("20261124T080000-feature-extraction", .featureExtraction, acc: 0.76, f1: [0.8, 0.2], mono: 0.8)
        XCTAssertNil(fe.history.throughput)
        fe.history.apply(.featuresReady(.init(cacheHit: false, seconds: 26.24)))
        XCTAssertEqual(fe.history.throughput, .featurePass(imagesPerSecond: 2624 / 26.24))
        XCTAssertEqual(fe.history.throughput?.text, "100.0 (features)")
        fe.history.apply(.featuresReady(.init(cacheHit: true, seconds: 0.4)))
        XCTAssertEqual(fe.history.throughput?.text, "features cached")
        XCTAssertNil(fe.history.throughput?.imagesPerSecond)
        let ft = compareRun("20261124T090000-fine-tune-top", .fineTuneTop, acc: 0.78, f1: [0.8, 0.4], mono: 0.8)
        XCTAssertEqual(ft.history.throughput, .training(imagesPerSecond: 30))
    }

    /// Only the settings that differ, each number with its difference to the pinned baseline, and the class the
    /// other run improved most; runs on another split are flagged.
    func testCompareShowsDifferingSettingsDeltasAndTheClassImprovedMost() {
        let fe = compareRun("20261124T080000-feature-extraction", .featureExtraction, acc: 0.764, f1: [0.84, 0.19], mono: 0.79)
        let ft = compareRun("20261124T090000-fine-tune-top", .fineTuneTop, acc: 0.782, f1: [0.85, 0.40], mono: 0.81)
        var v = CompareView(paths: [fe.path, ft.path])
        v.runs = [fe.path: fe, ft.path: ft]
        let rows = v.rows(glyphs: .unicode)
        func row(_ label: String) -> [String]? { rows.first { $0.label.trimmingCharacters(in: .whitespaces) == label }?.cells }
        XCTAssertEqual(row("intermediate lr"), ["frozen", "1e-05"])
        XCTAssertEqual(row("augmentation"), ["none", "flips h+v"])
        XCTAssertNil(row("seed"), "settings that agree are left out")
        XCTAssertEqual(row("val accuracy %"), ["76.4", "78.2 (+1.8)"])
        XCTAssertEqual(row("F1 p=1"), ["0.19", "0.40 (+0.21)"])
        XCTAssertEqual(row("mono accuracy %"), ["79.0", "81.0 (+2.0)"])
        XCTAssertEqual(v.verdicts(), ["fine-tune-top: F1 improved most on p=1 (+0.21), hurt no class; mono accuracy +2.0 points"])
        XCTAssertTrue(v.sameSplit)
        XCTAssertEqual(row("img/s"), ["—", "30.0"], "no feature pass logged: no speed; fine-tuning: its epochs' img/s")
        v.allSettings = true
        XCTAssertNotNil(v.rows(glyphs: .unicode).first { $0.label.trimmingCharacters(in: .whitespaces) == "seed" })
        // Pin the other run: the differences flip.
        v.allSettings = false
        v.baseline = 1
        XCTAssertEqual(v.rows(glyphs: .unicode).first { $0.label.contains("val accuracy") }?.cells, ["76.4 (-1.8)", "78.2"])
        // Another seed's split: not comparable, and the screen says so.
        let other = compareRun("20261124T100000-fine-tune-top", .fineTuneTop, acc: 0.8, f1: [0.9, 0.5], mono: 0.8, seed: 1)
        var w = CompareView(paths: [fe.path, other.path])
        w.runs = [fe.path: fe, other.path: other]
        XCTAssertFalse(w.sameSplit)
        var state = WorkbenchState(screen: .compare, setup: form())
        state.compare = w
        let c = render(state, width: 100, height: 30)
        XCTAssertTrue(c.line(0).contains("DIFFERENT SPLITS: not comparable"), c.line(0))
    }
}

extension WorkbenchScreenTests {
    /// Every run option is one key away from any pane, and the options pane shows that key next to it.
    func testEveryRunOptionHasAKeyShownBesideIt() {
        let f = form()
        let table = SetupScreen.keyTable(f)
        for key in OptionKey.allCases { XCTAssertEqual(table.action(for: .char(key.hotkey)), .option(key), key.rawValue) }
        let c = render(WorkbenchState(screen: .setup, setup: f), width: 100, height: 30)
        XCTAssertTrue(c.text.contains("E epochs"), c.text)
        XCTAssertTrue(c.text.contains("a augmentation"), c.text)
    }
}

extension WorkbenchScreenTests {
    /// Runs that differ only in their training seed group into one column: mean ± sample standard deviation
    /// of each result, and one mean curve per group.
    func testCompareGroupsRunsThatDifferOnlyInTheirSeed() {
        func run(_ id: String, _ preset: ExperimentConfig.Preset, acc: Double, f1: Double, trainingSeed: UInt64) -> WatchedRun {
            var r = compareRun(id, preset, acc: acc, f1: [0.8, f1], mono: acc)
            r.config.seed = trainingSeed
            return r
        }
        let runs = [run("20261124T080000-fe", .featureExtraction, acc: 0.76, f1: 0.20, trainingSeed: 2),
                    run("20261124T081000-fe", .featureExtraction, acc: 0.78, f1: 0.30, trainingSeed: 0),
                    run("20261124T082000-fe", .featureExtraction, acc: 0.80, f1: 0.40, trainingSeed: 1),
                    run("20261124T090000-ft", .fineTuneTop, acc: 0.82, f1: 0.50, trainingSeed: 0)]
        var v = CompareView(paths: runs.map(\.path))
        for r in runs { v.runs[r.path] = r }
        let groups = v.seedGroups
        XCTAssertEqual(groups.map(\.runs.count), [3, 1])
        XCTAssertEqual(groups[0].seeds, [2, 0, 1], "members keep the order they were given")
        XCTAssertEqual(groups[0].valAccuracy!.mean, 0.78, accuracy: 1e-12)
        XCTAssertEqual(groups[0].valAccuracy!.std, 0.02, accuracy: 1e-12, "sample standard deviation (n − 1)")
        XCTAssertEqual(groups[1].valAccuracy!.std, 0)
        v.groupSeeds = true
        XCTAssertEqual(v.columns.map(\.name), ["fe ×3", "ft"])
        let rows = v.seedRows(glyphs: .unicode)
        func row(_ label: String) -> [String]? { rows.first { $0.label.trimmingCharacters(in: .whitespaces) == label }?.cells }
        XCTAssertEqual(row("val accuracy %"), ["78.0 ± 2.0", "82.0"])
        XCTAssertEqual(row("F1 p=1"), ["0.300 ± 0.100", "0.500"])
        XCTAssertEqual(row("seeds"), ["0, 1, 2", "0"], "the table lists seeds in ascending order")
        XCTAssertEqual(v.values(of: v.columns[0].members).first?.y ?? 0, 0.78, accuracy: 1e-12, "the group's curve is the mean of its runs")
        var state = WorkbenchState(screen: .compare, setup: form())
        state.compare = v
        let c = render(state, width: 100, height: 30)
        XCTAssertTrue(c.text.contains("78.0 ± 2.0"), c.text)
        XCTAssertTrue(c.line(1).contains("fe ×3 mean of 3"), c.line(1))
    }

    /// Above 25 classes the confusion pane lists the most confused pairs from the validation report.
    func testTheResultsScreenListsTheMostConfusedPairsAboveTwentyFiveClasses() {
        let classes = (0..<30).map { "class\($0)" }
        var samples: [ValidationSample] = []
        func add(_ truth: Int, _ prediction: Int, _ n: Int) {
            for _ in 0..<n { samples.append(ValidationSample(index: samples.count, file: "/x\(samples.count).png", truth: truth, prediction: prediction, loss: 1, probabilities: nil, group: nil)) }
        }
        add(3, 7, 4); add(12, 2, 2); add(5, 5, 6); add(3, 3, 2)
        var h = RunHistory()
        h.apply(.started(.init(run: "r", strategy: "fine-tuning", backbone: "resnet18", dataset: "d", train: 10, validation: samples.count, classes: classes)))
        h.apply(.epoch(.init(epoch: 1, epochs: 1, step: 1, trainLoss: 1, trainAccuracy: 0.5, valLoss: 1, valAccuracy: 0.57,
                             perClass: classes.map { .init(name: $0, precision: 0, recall: 0, f1: 0, support: 1) }, confusion: nil)))
        var state = WorkbenchState(screen: .results, setup: form())
        state.results = ResultsView(id: "r", path: "/runs/r", report: ValidationReport(epoch: 1, classes: classes, samples: samples), history: h)
        let c = render(state, width: 120, height: 40)
        XCTAssertTrue(c.text.contains("most confused (30 classes, best epoch)"), c.text)
        let first = (0..<c.height).map(c.line).first { $0.contains("class3 → class7") }
        XCTAssertNotNil(first, c.text)
        XCTAssertTrue(first!.contains("4") && first!.contains("67%"), first!)
        XCTAssertTrue(c.text.contains("class12 → class2"))
    }
}

extension WorkbenchScreenTests {
    /// What goes to the terminal after curses: 24-bit cells only when new or changed (all again after a
    /// repaint), a kitty picture once per key and freed when it leaves the screen, a sixel once per place.
    func testGraphicsOutputSendsOnlyWhatChanged() {
        let out = GraphicsOutput(images: .truecolor, insideTmux: false, cellPixels: (8, 16), write: { _ in })
        let c = Canvas(width: 10, height: 4)
        c[x: 2, y: 1] = Cell("▀", style: Style(fg: .rgb(1, 2, 3), bg: .rgb(4, 5, 6)))
        c[x: 3, y: 1] = Cell("▀", style: Style(fg: .rgb(7, 8, 9), bg: .rgb(4, 5, 6)))
        XCTAssertEqual(out.sequences(for: c, screenWidth: 10, screenHeight: 4),
                       "\u{1B}[2;3H\u{1B}[0;38;2;1;2;3;48;2;4;5;6m▀\u{1B}[0;38;2;7;8;9;48;2;4;5;6m▀\u{1B}[0m")
        XCTAssertEqual(out.sequences(for: c, screenWidth: 10, screenHeight: 4), "", "unchanged: nothing")
        out.invalidate()
        XCTAssertFalse(out.sequences(for: c, screenWidth: 10, screenHeight: 4).isEmpty, "after a repaint: again")

        let k = GraphicsOutput(images: .kitty, insideTmux: true, cellPixels: nil, write: { _ in })
        let pic = Canvas(width: 10, height: 4)
        ImageCells.render(pixels: [UInt8](repeating: 50, count: 16), width: 4, height: 4, channels: 1, into: pic, rect: pic.bounds, mode: .kitty(id: 1), key: "a")
        let first = k.sequences(for: pic, screenWidth: 10, screenHeight: 4)
        XCTAssertTrue(first.hasPrefix("\u{1B}Ptmux;\u{1B}\u{1B}_Ga=T,U=1"), first.prefix(30).debugDescription)
        XCTAssertEqual(k.sequences(for: pic, screenWidth: 10, screenHeight: 4), "", "sent once")
        XCTAssertTrue(k.sequences(for: Canvas(width: 10, height: 4), screenWidth: 10, screenHeight: 4).contains("a=d,d=I,i=1"), "freed when gone")

        let s = GraphicsOutput(images: .sixel, insideTmux: false, cellPixels: (8, 16), write: { _ in })
        let six = Canvas(width: 10, height: 4)
        ImageCells.render(pixels: [UInt8](repeating: 50, count: 16), width: 4, height: 4, channels: 1, into: six, rect: Rect(x: 1, y: 1, width: 4, height: 2), mode: .sixel, key: "a")
        let drawn = s.sequences(for: six, screenWidth: 10, screenHeight: 4)
        XCTAssertTrue(drawn.hasPrefix("\u{1B}[2;2H\u{1B}P0;1;0q\"1;1;32;32"), "4 × 2 cells of 8 × 16 pixels hold a 32 × 32 square: \(drawn.prefix(30).debugDescription)")
        XCTAssertEqual(s.sequences(for: six, screenWidth: 10, screenHeight: 4), "")
    }
}
