import Foundation
import Backbones

/// Where an experiment reads and writes: runs, feature cache, weights, the ELPV data. Every default lives
/// under one home (`TLabHome`), so tlab works the same from any directory; every command's path options and
/// the workbench take their defaults from here.
public struct ExperimentPaths: Sendable {
    public var runs: String
    public var cache: String
    public var weights: String
    public var elpvRoot: String
    /// Fine-tuning runs cache the output of a frozen prefix of groups: on disk for unaugmented images (see
    /// `Experiment.cachedPrefix`; the results agree to float rounding), in memory per (image, flips) when flips
    /// are the only augmentation (`FlippedPrefixCache`, bit-identical). Off, they run the prefix on every step.
    public var cacheFrozenPrefix = true

    /// The default layout under `home`: experiments/runs, experiments/cache, weights, and the ELPV data where
    /// `make setup` unpacks it.
    public init(home: String = TLabHome.path) {
        func under(_ p: String) -> String { (home as NSString).appendingPathComponent(p) }
        runs = under("experiments/runs"); cache = under("experiments/cache"); weights = under("weights")
        elpvRoot = under(".cache/elpv/elpv_dataset/data")
    }

    /// The weights file of backbone `arch`: weights/NAME.safetensors.
    public func weightsFile(_ arch: String) -> String { PretrainedWeights.defaultPath(arch: arch, directory: weights) }
}

/// tlab's home: the folder holding weights/, the default ELPV data (.cache/) and experiments/ (runs and the
/// feature cache). It is `$TLAB_HOME` when set; otherwise the checkout the running binary was built in (found
/// by walking up from the executable's real path to a folder with Package.swift and Sources/tlab — the
/// checkout `make setup` prepared); otherwise the current directory.
public enum TLabHome {
    public static let variable = "TLAB_HOME"

    /// Resolved once per process.
    public static let path: String = resolve()

    /// The rule, as `tlab --help` and docs/config.md say it.
    public static let rule = "Weights, the ELPV data and experiments/ (runs, feature cache) live under one home: $\(variable) if set, else the checkout this tlab was built in, else the current directory."

    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment,
                               executable: String? = executablePath(),
                               currentDirectory: String = FileManager.default.currentDirectoryPath) -> String {
        if let v = environment[variable], !v.isEmpty {
            let expanded = (v as NSString).expandingTildeInPath
            return expanded.hasPrefix("/") ? expanded : (currentDirectory as NSString).appendingPathComponent(expanded)
        }
        if let executable, let root = checkout(containing: executable) { return root }
        return currentDirectory
    }

    /// The nearest folder above `path` that is a tlab checkout (Package.swift and Sources/tlab).
    public static func checkout(containing path: String) -> String? {
        var dir = (path as NSString).deletingLastPathComponent
        let fm = FileManager.default
        while !dir.isEmpty {
            if fm.fileExists(atPath: (dir as NSString).appendingPathComponent("Package.swift")),
               fm.fileExists(atPath: (dir as NSString).appendingPathComponent("Sources/tlab")) { return dir }
            if dir == "/" { break }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return nil
    }

    /// The running executable with symlinks resolved (Linux: /proc/self/exe).
    public static func executablePath() -> String? {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return Bundle.main.executablePath.map { ($0 as NSString).resolvingSymlinksInPath }
    }
}
