import ArgumentParser
import Engine
import Foundation
import Workbench

/// `tlab` with no subcommand: the workbench, on the setup screen (ELPV, EfficientNet-Lite0, feature extraction).
struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "open",
        abstract: "Open the workbench (the default): set up an experiment per layer group, start it, watch it train, list runs.")
    @OptionGroup var folder: RunsFolder
    @Option(help: "Feature cache folder for the runs started here.") var cache: String?

    func run() throws {
        var paths = ExperimentPaths()
        paths.runs = folder.path
        if let cache { paths.cache = cache }
        let status = Workbench.run(.init(paths: paths))
        if status != 0 { throw ExitCode(status) }
    }
}

/// `tlab watch RUN`: the workbench on one run's screen, whoever started it.
struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Watch a run live in the workbench (one started here or by `tlab train` in another terminal).")
    @Argument(help: "Run id (a unique prefix is enough) or folder.") var runID: String
    @OptionGroup var folder: RunsFolder

    func run() throws {
        var paths = ExperimentPaths()
        paths.runs = folder.path
        let path = try RunRecords.resolve(runID, root: folder.path)
        let status = Workbench.run(.init(watch: path, paths: paths))
        if status != 0 { throw ExitCode(status) }
    }
}
