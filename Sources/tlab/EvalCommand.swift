import ArgumentParser
import Engine
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A run's validation results at its best epoch: accuracy, confusion matrix (counts and row-normalised), precision / recall / F1 per class and per subgroup; instantly, from the run's records.",
        discussion: """
            The results come from the run's validation.json (every validation image's truth, prediction, loss and \
            subgroup, written at each new best epoch), so eval is instant and works while a run trains (its best \
            epoch so far). --recompute re-evaluates the best checkpoint (head, and backbone when fine-tuned) on the \
            validation images split.json records, as does a run without validation.json; on a terminal a progress \
            line shows that backbone pass.
            --worst N lists the N wrong predictions with the highest loss (file, truth, predicted, loss); \
            --most-confused lists the class pairs confused most often (off-diagonal counts, largest first, at most 20). \
            Above 25 classes the matrices are left out and the most confused pairs shown instead.
            --json prints one JSON document: run, epoch, source (stored or recomputed), val_acc, val_acc_binary, \
            loss, macro_f1, classes, per_class, confusion, confusion_normalized, groups (name → accuracy, n, \
            per_class), and worst / most_confused when asked for.
            """)
    @Argument(help: "Run id (a unique prefix is enough) or path.") var runID: String
    @OptionGroup var folder: RunsFolder
    @Flag(help: "One JSON document instead of tables.") var json = false
    @Option(parsing: .unconditional, help: ArgumentHelp("List the N highest-loss wrong predictions.", valueName: "N")) var worst: Int?
    @Flag(help: "List the most confused class pairs.") var mostConfused = false
    @Flag(help: "Re-evaluate the best checkpoint instead of reading the stored results (takes a backbone pass).") var recompute = false

    static let matrixClassLimit = 25, confusedLimit = 20

    func validate() throws {
        if let worst, worst < 1 { throw ValidationError("--worst must be at least 1 (got \(worst))") }
    }

    struct Scores: Encodable {
        var perClass: [TrainingEvent.ClassScore]
        var accuracy: Double
        var n: Int
        enum CodingKeys: String, CodingKey { case perClass = "per_class", accuracy, n }
    }

    struct Output: Encodable {
        var run: String
        var epoch: Int
        var source: String
        var valAccuracy: Double
        var valBinaryAccuracy: Double?
        var loss, macroF1: Double
        var classes: [String]
        var perClass: [TrainingEvent.ClassScore]
        var confusion: [[Int]]
        var confusionNormalized: [[Double]]
        var groups: [String: Scores]
        var worst: [ValidationSample]?
        var mostConfused: [ClassificationMetrics.ConfusedPair]?
        enum CodingKeys: String, CodingKey {
            case run, epoch, source, classes, confusion, groups, worst, loss
            case valAccuracy = "val_acc", valBinaryAccuracy = "val_acc_binary", macroF1 = "macro_f1", perClass = "per_class"
            case confusionNormalized = "confusion_normalized", mostConfused = "most_confused"
        }
    }

    func run() throws {
        let path = try RunRecords.resolve(runID, root: folder.path)
        let id = (path as NSString).lastPathComponent
        let config = try RunRecords.config(path)
        var report = recompute ? nil : try RunRecords.validation(path)
        let stored = report != nil
        if report == nil {
            if !recompute {
                guard FileManager.default.fileExists(atPath: (path as NSString).appendingPathComponent("checkpoints/best.safetensors")) else {
                    throw ValidationError("\(id): no validation results yet (no validation.json and no best checkpoint)")
                }
                FileHandle.standardError.write(Data("note: \(id) has no validation.json; re-evaluating its best checkpoint\n".utf8))
            }
            let progress = ProgressLine(json: json)
            report = try RunRecords.evaluateReport(path, note: { progress.clear(); FileHandle.standardError.write(Data("note: \($0)\n".utf8)) }) {
                progress.show($0)
            }.report
            progress.clear()
        }
        guard let report else { return }
        let positive = config.dataset.binaryPositive
        let m = report.metrics(positive: positive)
        let groups = report.groupMetrics(positive: positive)
        let worstSamples = worst.map { report.worst($0) }
        let pairs = mostConfused || m.classNames.count > Self.matrixClassLimit ? m.mostConfused(limit: Self.confusedLimit) : nil
        if json {
            var byGroup: [String: Scores] = [:]
            for (g, gm) in groups { byGroup[g] = Scores(perClass: gm.classScores, accuracy: gm.accuracy, n: gm.support.reduce(0, +)) }
            print(try JSONLines.string(Output(run: id, epoch: report.epoch, source: stored ? "stored" : "recomputed", valAccuracy: m.accuracy,
                                              valBinaryAccuracy: m.binaryAccuracy, loss: m.loss, macroF1: m.macroF1, classes: m.classNames,
                                              perClass: m.classScores, confusion: m.confusion, confusionNormalized: m.rowNormalizedConfusion,
                                              groups: byGroup, worst: worstSamples, mostConfused: mostConfused ? pairs : nil)))
            return
        }
        var source = stored ? "stored results of epoch \(report.epoch) (--recompute re-evaluates the best checkpoint)" : "recomputed from the best checkpoint"
        let state = RunRecords.state(path)
        if stored && (state == .running || state == .paused) { source += "; the run is still training: best epoch so far" }
        print(String(format: "%@: val acc %.1f %%%@, loss %.4f, macro F1 %.3f — %@", id, 100 * m.accuracy,
                     m.binaryAccuracy.map { String(format: ", binary %.1f %%", 100 * $0) } ?? "", m.loss, m.macroF1, source))
        if m.classNames.count <= Self.matrixClassLimit {
            print("\nconfusion matrix (rows: truth, columns: predicted)")
            print(TextTable.render([["truth \\ predicted"] + m.classNames] + m.classNames.indices.map { [m.classNames[$0]] + m.confusion[$0].map(String.init) },
                                   rightAligned: Set(1...max(1, m.classNames.count))))
            print("\nrow-normalised (% of each true class)")
            print(TextTable.render([["truth \\ predicted"] + m.classNames] + m.classNames.indices.map { i in
                [m.classNames[i]] + m.rowNormalizedConfusion[i].map { String(format: "%.1f", 100 * $0) }
            }, rightAligned: Set(1...max(1, m.classNames.count))))
        } else {
            print("\n\(m.classNames.count) classes: the matrix is left out; the most confused pairs are below")
        }
        print("\nper class")
        print(TextTable.render([["class", "precision", "recall", "F1", "support"]] + m.classScores.map(Self.scoreRow), rightAligned: [1, 2, 3, 4]))
        if !groups.isEmpty {
            print("\nper group")
            var rows = [["group / class", "precision", "recall", "F1", "support"]]
            for (g, gm) in groups {
                rows.append([String(format: "%@ (acc %.1f %%)", g, 100 * gm.accuracy), "", "", "", "\(gm.support.reduce(0, +))"])
                rows += gm.classScores.map { var r = Self.scoreRow($0); r[0] = "  " + r[0]; return r }
            }
            print(TextTable.render(rows, rightAligned: [1, 2, 3, 4]))
            if groups.count > 1, let hi = groups.max(by: { $0.metrics.accuracy < $1.metrics.accuracy }),
               let lo = groups.min(by: { $0.metrics.accuracy < $1.metrics.accuracy }) {
                print(String(format: "gap between groups: %.1f pp (%@ %.1f %%, %@ %.1f %%)", 100 * (hi.metrics.accuracy - lo.metrics.accuracy),
                             hi.group, 100 * hi.metrics.accuracy, lo.group, 100 * lo.metrics.accuracy))
            }
        }
        if let pairs, mostConfused || m.classNames.count > Self.matrixClassLimit {
            print("\nmost confused (truth → predicted)")
            print(pairs.isEmpty ? "none: every validation image was classified correctly"
                  : TextTable.render([["truth", "predicted", "count", "% of truth"]] + pairs.map {
                        [$0.truth, $0.predicted, "\($0.count)", String(format: "%.1f", 100 * $0.rate)]
                    }, rightAligned: [2, 3]))
        }
        if let worstSamples {
            print("\nworst \(worstSamples.count) wrong prediction\(worstSamples.count == 1 ? "" : "s") (highest loss)")
            print(worstSamples.isEmpty ? "none: every validation image was classified correctly"
                  : TextTable.render([["file", "truth", "predicted", "loss"]] + worstSamples.map {
                        [$0.file, report.classes[$0.truth], report.classes[$0.prediction], String(format: "%.4f", $0.loss)]
                    }, rightAligned: [3]))
        }
    }

    static func scoreRow(_ s: TrainingEvent.ClassScore) -> [String] {
        [s.name, String(format: "%.3f", s.precision), String(format: "%.3f", s.recall), String(format: "%.3f", s.f1), "\(s.support)"]
    }
}
