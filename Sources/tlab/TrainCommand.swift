import ArgumentParser
import Backbones
import Engine
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an experiment headless and write its run folder under experiments/runs/.",
        discussion: """
            With --json every event is a JSON line on stdout; the last line is the summary. Ctrl-C (SIGINT) or SIGTERM \
            stops after the current step and writes a checkpoint; --resume RUN continues it (or a killed run) from there.
            """)

    @Option(help: "Experiment config (JSON).") var config: String?
    @Option(help: "Continue a stopped or killed run (its id, a unique prefix of it, or its folder).") var resume: String?
    @Option(help: "Preset: \(ExperimentConfig.presetNames.joined(separator: ", ")).") var preset: String?
    @Option(help: "Dataset: elpv, a folder or a CSV manifest.") var dataset: String?
    @Option(help: "Backbone.") var backbone: String?
    @Option(help: "Epochs.") var epochs: Int?
    @Option(help: "Learning rate of the new head.") var headLr: Double?
    @Option(help: "Folder for run folders.") var runs = "experiments/runs"
    @Option(help: "Feature cache folder.") var cache = "experiments/cache"
    @Flag(help: "Run a frozen prefix of groups on every step instead of caching its output.") var noPrefixCache = false
    @Flag(help: "JSON lines on stdout.") var json = false

    func validate() throws {
        guard [config, preset, resume].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --config FILE, --preset NAME or --resume RUN")
        }
        if resume != nil && (dataset != nil || backbone != nil || epochs != nil || headLr != nil) {
            throw ValidationError("--resume continues the run as configured; it takes no --dataset, --backbone, --epochs or --head-lr")
        }
    }

    /// `elpv`, a CSV manifest (*.csv) or an image folder.
    static func datasetConfig(_ d: String) -> DatasetConfig {
        d == "elpv" ? DatasetConfig(kind: "elpv") : DatasetConfig(kind: d.hasSuffix(".csv") ? "csv" : "folder", path: d)
    }

    func experimentConfig() throws -> ExperimentConfig {
        var c: ExperimentConfig
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else { throw ValidationError("\(config): cannot read") }
            c = try ExperimentConfig.decode(data)
            // The other options override the file's fields.
            if let backbone { c.backbone = backbone }
            if let dataset { c.dataset = Self.datasetConfig(dataset) }
            if let headLr { c.head.learningRate = headLr }
        } else {
            c = try ExperimentConfig.preset(preset!, backbone: backbone ?? "efficientnet_lite0",
                                            dataset: Self.datasetConfig(dataset ?? "elpv"), headLR: headLr ?? 1e-3)
        }
        if let epochs { c.epochs = epochs }
        return c
    }

    func run() throws {
        var paths = ExperimentPaths()
        paths.runs = runs; paths.cache = cache; paths.cacheFrozenPrefix = !noPrefixCache
        let job: TrainingSession.Job = try resume.map { .resume(try RunRecords.resolve($0, root: runs)) } ?? .start(try experimentConfig())
        let session = TrainingSession(job, paths: paths)
        // Ctrl-C / SIGTERM: stop cleanly after the current step, with a checkpoint to resume from.
        let stopSignals = [SIGINT, SIGTERM].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { session.stop() }
            source.resume()
            return source
        }
        defer { stopSignals.forEach { $0.cancel() } }
        session.start { event in Self.show(event, json: json) }
        switch try session.wait().get() {
        case .stopped(let id, _, let epoch):
            if !json { print("stopped with \(epoch) epoch\(epoch == 1 ? "" : "s") complete; continue with: tlab train --resume \(id)") }
            throw ExitCode(130)
        case .finished(let summary):
            if !json {
                print(String(format: "run %@: final val acc %.1f %%%@; best epoch %d (lowest val loss) %.1f %%%@; %.1f s (features %.1f s, %@)",
                             summary.runID, 100 * summary.last.accuracy,
                             summary.last.binaryAccuracy.map { String(format: ", binary %.1f %%", 100 * $0) } ?? "",
                             summary.bestEpoch, 100 * summary.best.accuracy,
                             summary.best.binaryAccuracy.map { String(format: ", binary %.1f %%", 100 * $0) } ?? "",
                             summary.wallSeconds, summary.featureSeconds, summary.cacheHit ? "cache hit" : "computed"))
            }
        }
    }

    static func show(_ event: TrainingEvent, json: Bool) {
        if json {
            if let data = try? JSONSerialization.data(withJSONObject: event.json, options: [.sortedKeys]) {
                print(String(decoding: data, as: UTF8.self)); fflush(stdout)
            }
            return
        }
        switch event {
        case .failed(let reason, _): print("failed: \(reason)")
        case .resumed(let epoch, let step): print("resuming after epoch \(epoch) (step \(step))")
        case .epoch(let e) where e.epochs <= 20 || e.epoch == 1 || e.epoch == e.epochs || e.epoch % 10 == 0:
            print(String(format: "epoch %3d/%d  train loss %.4f  val loss %.4f  val acc %.1f %%%@", e.epoch, e.epochs,
                         e.trainLoss, e.valLoss, 100 * e.valAcc,
                         e.valAccBinary.map { String(format: "  binary %.1f %%", 100 * $0) as NSString } ?? ""))
            fflush(stdout)
        default: break
        }
    }
}
