import ArgumentParser
import Engine
import Foundation
import TerminalUI
import Workbench

/// `tlab` with no subcommand: the workbench, on the setup screen (ELPV, EfficientNet-Lite0, feature extraction).
struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "open",
        abstract: "Open the workbench (the default): set up an experiment per layer group, start it, watch it train, list runs.")
    @OptionGroup var folder: RunsFolder
    @Option(help: "Feature cache folder for the runs started here.") var cache: String?
    @OptionGroup var images: ImagesOption

    func run() throws {
        var paths = ExperimentPaths()
        paths.runs = folder.path
        if let cache { paths.cache = cache }
        var options = Workbench.Options(paths: paths)
        options.images = images.choice
        let status = Workbench.run(options)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `tlab watch RUN`: the workbench on one run's screen, whoever started it.
struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Watch a run live in the workbench (one started here or by `tlab train` in another terminal).")
    @Argument(help: "Run id (a unique prefix is enough) or folder.") var runID: String
    @OptionGroup var folder: RunsFolder
    @OptionGroup var images: ImagesOption

    func run() throws {
        var paths = ExperimentPaths()
        paths.runs = folder.path
        let path = try RunRecords.resolve(runID, root: folder.path)
        var options = Workbench.Options(watch: path, paths: paths)
        options.images = images.choice
        let status = Workbench.run(options)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `--images`: how the results screen draws validation images. auto asks the terminal before curses starts.
struct ImagesOption: ParsableArguments {
    @Option(name: .customLong("images"), help: ArgumentHelp(
        "How images are drawn: auto, kitty, sixel, truecolor, 256 or ramp (also TLAB_IMAGES).",
        discussion: "auto picks the best the terminal answers to: the kitty graphics protocol, sixel, 24-bit half blocks (COLORTERM=truecolor), 256-colour half blocks, a character ramp without colour."))
    var text = "auto"

    var choice: ImageProtocol? { ImageProtocol.parse(text) ?? nil }

    func validate() throws {
        guard ImageProtocol.parse(text) != nil else {
            throw ValidationError("--images \(text) is not one of auto, \(ImageProtocol.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }
}
