// swift-tools-version:5.9
// tlab — a transfer-learning workbench for the terminal.
// Dependencies point one way: Kernels ← Layers ← (Backbones, WeightsIO) ← ImageData ← Engine ← Workbench/tlab.
import PackageDescription

// Kernels is built with -Ounchecked: overflow checks on index arithmetic stop its loops from vectorising
// (a 3×3 depthwise conv measured 4× slower under plain -O). Its shape checks use `require`, which
// survives -Ounchecked; every other module keeps the default checked -O.
// It also targets Haswell-class x86-64 (AVX2 + FMA, every x86 CPU since 2013) so that SIMD code is not lowered to SSE2.
#if arch(x86_64)
let uncheckedKernels: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release))]
#else
let uncheckedKernels: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
#endif
let optimized: [SwiftSetting] = []

let package = Package(
    name: "tlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tlab", targets: ["tlab"]),
        .library(name: "Kernels", targets: ["Kernels"]),
        .library(name: "Layers", targets: ["Layers"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries, seen through pkg-config.
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNCursesW", path: "Sources/CNCursesW", pkgConfig: "ncursesw",
                       providers: [.apt(["libncursesw5-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),

        // Starts OpenBLAS with the environment tlab needs (its kernels for this CPU, workers that sleep), before
        // any Swift runs: an initialiser that restarts the process once when a variable is missing.
        .target(name: "CBLASLaunch", dependencies: ["COpenBLAS"]),
        // Pure compute: strided float32 tensors, GEMM, convolution, pooling, normalisation, elementwise.
        .target(name: "Kernels", dependencies: ["COpenBLAS", "CBLASLaunch"], swiftSettings: uncheckedKernels),
        // Layers with forward and backward side by side, losses, optimisers, schedules.
        .target(name: "Layers", dependencies: ["Kernels"], swiftSettings: optimized),
        // Checkpoints: safetensors, PyTorch .pth (legacy and zip) through a restricted unpickler.
        .target(name: "WeightsIO", dependencies: ["Kernels"], swiftSettings: optimized),
        // Pretrained architectures: definitions, layer groups, preprocessing facts, weight loading by name.
        .target(name: "Backbones", dependencies: ["Kernels", "Layers", "WeightsIO"], swiftSettings: optimized),
        // Image decoding (libpng) and datasets.
        .target(name: "ImageData", dependencies: ["Kernels", "CPNG"], swiftSettings: optimized),
        // Experiments: configs and presets, metrics (the training engine grows here).
        .target(name: "Engine", dependencies: ["Kernels", "Layers", "Backbones", "ImageData", "WeightsIO"], swiftSettings: optimized),
        // Terminal widgets drawn into an off-screen cell grid (no curses, no engine): charts, tables, fields, help.
        .target(name: "TerminalUI", swiftSettings: optimized),
        // The ncurses workbench: screens rendered from one state, keys through per-screen tables, runs watched
        // through their folders. No training logic.
        // Built testable in release too, so its tests can render its internal screens off-screen (no numeric code here).
        .target(name: "Workbench", dependencies: ["Engine", "Backbones", "ImageData", "Layers", "TerminalUI", "CNCursesW"],
                swiftSettings: [.unsafeFlags(["-enable-testing"])]),
        // The command-line front end.
        .executableTarget(name: "tlab", dependencies: [
            "Kernels", "Layers", "ImageData", "WeightsIO", "Backbones", "Engine", "TerminalUI", "Workbench",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: optimized),

        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "Kernels"]),
        .testTarget(name: "ImageDataTests", dependencies: ["ImageData", "Kernels"]),
        .testTarget(name: "BackbonesTests", dependencies: ["Backbones", "Layers", "Kernels", "WeightsIO", "ImageData"], exclude: ["Fixtures"]),
        // Runs the built tlab binary (so it depends on it for build order).
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Backbones", "Layers", "Kernels", "ImageData", "WeightsIO"]),
        .testTarget(name: "CLITests", dependencies: ["tlab", "Engine", "Kernels"]),
        .testTarget(name: "TerminalUITests", dependencies: ["TerminalUI"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "TerminalUI", "Engine", "ImageData"]),
        .testTarget(name: "WeightsIOTests", dependencies: ["WeightsIO", "Kernels"], exclude: ["Fixtures"]),
    ]
)
