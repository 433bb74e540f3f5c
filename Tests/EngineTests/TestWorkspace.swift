import Foundation
import Backbones
import Engine
import ImageData
import Kernels
import WeightsIO

/// A workspace under `root` with synthetic MobileNetV2 weights and a generated two-class image folder:
/// bright-centred vs dark-centred 32×32 images, which even a synthetic-weight backbone's features separate.
func makeTestWorkspace(_ root: URL) throws -> ExperimentPaths {
    var ws = ExperimentPaths()
    ws.runs = root.appendingPathComponent("runs").path
    ws.cache = root.appendingPathComponent("cache").path
    ws.weights = root.appendingPathComponent("weights").path
    try FileManager.default.createDirectory(atPath: ws.weights, withIntermediateDirectories: true)
    let net = Backbones.make("mobilenet_v2")!
    SyntheticWeights.apply(to: net)
    try Safetensors.write(net.stateDict(metadata: ["arch": "mobilenet_v2"]), to: PretrainedWeights.defaultPath(arch: "mobilenet_v2", directory: ws.weights))
    var g = SeededGenerator(seed: 1)
    for cls in ["bright", "dark"] {
        let dir = root.appendingPathComponent("data/\(cls)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for i in 0..<24 {
            let px = (0..<(32 * 32)).map { p -> UInt8 in
                let (y, x) = (p / 32, p % 32), centre = abs(y - 16) < 8 && abs(x - 16) < 8
                let base = centre ? (cls == "bright" ? 220 : 30) : 120
                return UInt8(max(0, min(255, base + Int(g.nextFloat() * 40) - 20)))
            }
            try Data(try PNGCodec.encode(width: 32, height: 32, layout: .gray8, samples: px)).write(to: dir.appendingPathComponent("\(i).png"))
        }
    }
    return ws
}

/// Feature extraction on that dataset at 32×32.
func workspaceConfig(_ root: URL) throws -> ExperimentConfig {
    var c = ExperimentConfig.preset(.featureExtraction, backbone: "mobilenet_v2",
                                        dataset: DatasetConfig(kind: .folder, path: root.appendingPathComponent("data").path))
    c.resolution = 32; c.epochs = 40; c.batchSize = 8; c.head.learningRate = 3e-3
    return c
}
