import Engine
import Foundation
import TerminalUI

/// The ncurses workbench: `tlab` (set up and start an experiment, watch it, list runs) and `tlab watch RUN`.
public enum Workbench {
    public struct Options {
        /// Open on this run folder's run screen instead of the setup screen.
        public var watch: String?
        public var paths: ExperimentPaths
        public var backbone = "efficientnet_lite0"
        public var dataset = DatasetConfig.elpv
        public var preset = ExperimentConfig.Preset.featureExtraction
        /// How to draw images (`--images`); nil: TLAB_IMAGES, else the best the terminal supports.
        public var images: ImageProtocol?
        public init(watch: String? = nil, paths: ExperimentPaths = ExperimentPaths()) { self.watch = watch; self.paths = paths }
    }

    /// Runs the workbench until the user quits; returns the process exit status (2 when there is no usable
    /// terminal, with the reason and the CLI to use instead on stderr).
    public static func run(_ options: Options) -> Int32 {
        if let reason = Terminal.unusableReason() {
            FileHandle.standardError.write(Data("""
                tlab: the workbench needs an interactive terminal (\(reason)).
                Use the command line instead: tlab train --preset feature-extraction --dataset elpv, tlab runs, tlab compare RUN RUN, tlab --help

                """.utf8))
            return 2
        }
        let env = ProcessInfo.processInfo.environment
        let noColor = !(env["NO_COLOR"] ?? "").isEmpty
        let form = SetupForm(backbones: BackboneChoice.all(weightsDirectory: options.paths.weights), backbone: options.backbone,
                             dataset: options.dataset, preset: options.preset, paths: options.paths)
        var state = WorkbenchState(screen: options.watch == nil ? .setup : .run, setup: form)
        if let w = options.watch { state.watchedPath = w; state.history = [.runs] }
        var requested = options.images
        if requested == nil, let text = env["TLAB_IMAGES"] {
            guard let parsed = ImageProtocol.parse(text) else {
                FileHandle.standardError.write(Data("tlab: TLAB_IMAGES=\(text) is not one of auto, \(ImageProtocol.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
                return 2
            }
            requested = parsed
        }
        // The terminal is asked before curses starts: afterwards its answers would arrive as keys.
        let probe = requested == nil || requested == .sixel ? TerminalProbe.run(environment: env)
            : TerminalProbe(facts: .init(insideTmux: env["TMUX"] != nil), cellPixels: TerminalProbe.kernelCellPixels())
        let terminal = Terminal(noColor: noColor)
        defer { terminal.close() }
        let images = ImageProtocol.choose(requested: requested, colors: terminal.colors, colors256: terminal.has256, facts: probe.facts, environment: env)
        terminal.graphics = GraphicsOutput(images: images, insideTmux: probe.facts.insideTmux, cellPixels: probe.cellPixels)
        let app = App(state: state, terminal: terminal, paths: options.paths, trace: FrameTrace(path: env["TLAB_WORKBENCH_TRACE"]))
        // Ctrl-C, kill and a closed terminal end the workbench cleanly (terminal restored); runs keep training.
        let signals = [SIGINT, SIGTERM, SIGHUP].map { sig -> DispatchSourceSignal in
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [inbox = app.inbox] in inbox.post(.terminate) }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        app.run()
        return 0
    }
}
