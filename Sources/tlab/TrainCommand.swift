import ArgumentParser
import Backbones
import Engine
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an experiment headless and write its run folder under experiments/runs/.",
        discussion: """
            With --json every event is a JSON line on stdout; the last line is the summary. Ctrl-C (SIGINT) or SIGTERM \
            stops after the current step and writes a checkpoint; --resume RUN continues it (or a killed run) from there. \
            SIGUSR1 pauses the run between steps and SIGUSR2 continues it.
            """)

    @Option(help: "Experiment config (JSON).") var config: String?
    @Option(help: "Continue a stopped or killed run (its id, a unique prefix of it, or its folder).") var resume: String?
    @Option(help: "Preset: \(ExperimentConfig.presetNames.joined(separator: ", ")).") var preset: ExperimentConfig.Preset?
    @Option(help: "Dataset: elpv, a folder or a CSV manifest.") var dataset: String?
    @Option(help: "Backbone.") var backbone: String?
    @Option(parsing: .unconditional, help: "Epochs.") var epochs: Int?
    @Option(parsing: .unconditional, help: "Learning rate of the new head; every group's rate keeps its ratio to it (with --preset and with --config alike).") var headLr: Double?
    @Option(parsing: .unconditional, help: "Random seed of the run (shuffling, head initialisation, dropout, augmentation).") var seed: UInt64?
    @Option(help: "Run name (the run id is its start time and this name).") var name: String?
    @Option(parsing: .unconditional, help: "Training batch size.") var batchSize: Int?
    @Option(parsing: .unconditional, help: "Input resolution (default: the backbone's).") var res: Int?
    @OptionGroup var folder: RunsFolder
    @Option(help: "Feature cache folder (default: the home's; --resume uses the run's own).") var cache: String?
    @Flag(help: "Run a frozen prefix of groups on every step instead of caching its output.") var noPrefixCache = false
    @Flag(help: "JSON lines on stdout.") var json = false

    func validate() throws {
        guard [config, preset?.rawValue, resume].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --config FILE, --preset NAME or --resume RUN")
        }
        if resume != nil && (dataset != nil || backbone != nil || epochs != nil || headLr != nil || seed != nil || name != nil || batchSize != nil || res != nil) {
            throw ValidationError("--resume continues the run as configured; it takes no --dataset, --backbone, --epochs, --head-lr, --seed, --name, --batch-size or --res")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1 (got \(epochs))") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
        if let res, !(32...1024).contains(res) { throw ValidationError("--res must be in 32…1024 (got \(res))") }
        if let headLr, !(headLr > 0 && headLr < 10) { throw ValidationError("--head-lr must be a positive number below 10 (got \(headLr))") }
        if let name, name.isEmpty || name.contains("/") || name.contains(where: \.isNewline) {
            throw ValidationError("--name must be non-empty, without '/' or line breaks")
        }
    }

    /// `elpv`, a CSV manifest (*.csv) or an image folder.
    static func datasetConfig(_ d: String) -> DatasetConfig {
        DatasetConfig(argument: d)
    }

    func experimentConfig() throws -> ExperimentConfig {
        var c: ExperimentConfig
        if let config {
            guard let data = FileManager.default.contents(atPath: config) else { throw ValidationError("\(config): cannot read") }
            c = try ExperimentConfig.decode(data)
            // The other options override the file's fields.
            if let backbone { c.backbone = backbone }
            if let dataset { c.dataset = Self.datasetConfig(dataset) }
            if let headLr { c.rescaleLearningRates(headLearningRate: headLr) }
        } else {
            c = ExperimentConfig.preset(preset!, backbone: backbone ?? "efficientnet_lite0",
                                            dataset: Self.datasetConfig(dataset ?? "elpv"), headLR: headLr ?? 1e-3)
        }
        if let epochs { c.epochs = epochs }
        if let seed { c.seed = seed }
        if let name { c.name = name }
        if let batchSize { c.batchSize = batchSize }
        if let res { c.resolution = res }
        return c
    }

    func run() throws {
        var paths = ExperimentPaths()
        // A resumed run uses the cache it started with unless told otherwise.
        let resumed = try resume.map { try RunRecords.resolve($0, root: folder.path) }
        let recordedCache = resumed.flatMap { try? RunLogReader.history(of: $0).start?.cache }
        paths.runs = folder.path; paths.cache = cache ?? recordedCache ?? ExperimentPaths().cache; paths.cacheFrozenPrefix = !noPrefixCache
        let job: TrainingSession.Job = try resumed.map { .resume($0) } ?? .start(try experimentConfig())
        let session = TrainingSession(job, paths: paths)
        // Ctrl-C / SIGTERM: stop cleanly after the current step, with a checkpoint to resume from. SIGUSR1 pauses
        // and SIGUSR2 continues: how the workbench (or `kill`) controls a run in another process.
        let handlers: [(Int32, () -> Void)] = [(SIGINT, session.stop), (SIGTERM, session.stop), (SIGUSR1, session.pause), (SIGUSR2, session.continue)]
        let signalSources = handlers.map { sig, action -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { action() }
            source.resume()
            return source
        }
        defer { signalSources.forEach { $0.cancel() } }
        let progress = ProgressLine(enabled: !json && isatty(STDOUT_FILENO) == 1)
        session.start { event in Self.show(event, json: json, progress: progress) }
        let outcome = session.wait()
        progress.clear()
        switch try outcome.get() {
        case .stopped(let id, _, let epoch):
            // The run records its cache folder, so the resume command needs no --cache.
            if !json { print("stopped with \(epoch) epoch\(epoch == 1 ? "" : "s") complete; continue with: \(Runs.resumeCommand(id, folder: folder.path))") }
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

    static func show(_ event: TrainingEvent, json: Bool, progress: ProgressLine) {
        if json {
            print(event.jsonLine); fflush(stdout)
            return
        }
        switch event {
        case .failed(let f): progress.clear(); print("failed: \(f.reason)")
        case .started(let s) where s.skippedFiles > 0: print(skippedFilesNote(s.skippedFiles, dataset: s.dataset))
        case .resumed(let p): print("resuming at epoch \(p.epoch), step \(p.step)")
        case .unfroze(let u): progress.clear(); print("epoch \(u.epoch): unfroze \(u.groups.joined(separator: ", "))")
        case .progress(let p):
            progress.show(String(format: "%@ %d/%d  %.1f img/s  ETA %@", p.phase, p.done, p.total, p.imagesPerSecond, duration(p.etaSeconds)))
        case .step(let s):
            progress.show(String(format: "epoch %d step %d/%d  loss %.4f  %.1f img/s  ETA %@", s.epoch, s.epochStep, s.stepsPerEpoch, s.loss,
                                 s.imagesPerSecond, duration(s.etaSeconds)))
        case .epoch(let e):
            if e.epochs <= 20 || e.epoch == 1 || e.epoch == e.epochs || e.epoch % 10 == 0 {
                progress.clear()
                print(String(format: "epoch %3d/%d  train loss %.4f acc %.1f %%  val loss %.4f  val acc %.1f %%%@", e.epoch, e.epochs,
                             e.trainLoss, 100 * e.trainAccuracy, e.valLoss, 100 * e.valAccuracy,
                             e.valBinaryAccuracy.map { String(format: "  binary %.1f %%", 100 * $0) as NSString } ?? ""))
            } else {
                progress.show(String(format: "epoch %d/%d  val acc %.1f %%", e.epoch, e.epochs, 100 * e.valAccuracy))
            }
            fflush(stdout)
        default: break
        }
    }
}
