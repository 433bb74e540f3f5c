import Kernels
import Layers

extension Backbones {
    /// torchvision ResNet: `blocks` per stage, basic (two 3×3) or bottleneck (1×1, 3×3, 1×1 ×4) blocks,
    /// stride on the 3×3 (ResNet v1.5).
    static func resnet(spec: BackboneSpec, blocks: [Int], bottleneck: Bool) -> Backbone {
        var g = SeededGenerator(seed: 0)
        func conv(_ i: Int, _ o: Int, _ k: Int, _ s: Int = 1) -> Conv2d {
            Conv2d(i, o, kernel: k, stride: s, padding: .explicit(k / 2, k / 2), bias: false, generator: &g)
        }
        var children: [(String, Layer)] = [
            ("conv1", conv(3, 64, 7, 2)), ("bn1", BatchNorm(64)), ("relu", ActivationLayer(.relu)),
            ("maxpool", MaxPool2d(kernel: 3, stride: 2, padding: .explicit(1, 1))),
        ]
        let expansion = bottleneck ? 4 : 1
        var inC = 64, stageStart: [Int] = []
        for (stage, count) in blocks.enumerated() {
            stageStart.append(children.count)
            let width = 64 << stage
            for b in 0..<count {
                let stride = (b == 0 && stage > 0) ? 2 : 1, outC = width * expansion
                let body: Sequential
                if bottleneck {
                    body = Sequential([("conv1", conv(inC, width, 1)), ("bn1", BatchNorm(width)), ("relu1", ActivationLayer(.relu)),
                                       ("conv2", conv(width, width, 3, stride)), ("bn2", BatchNorm(width)), ("relu2", ActivationLayer(.relu)),
                                       ("conv3", conv(width, outC, 1)), ("bn3", BatchNorm(outC))])
                } else {
                    body = Sequential([("conv1", conv(inC, width, 3, stride)), ("bn1", BatchNorm(width)), ("relu1", ActivationLayer(.relu)),
                                       ("conv2", conv(width, width, 3)), ("bn2", BatchNorm(width))])
                }
                let shortcut: Layer? = (stride != 1 || inC != outC)
                    ? Sequential([("0", conv(inC, outC, 1, stride)), ("1", BatchNorm(outC))]) : nil
                children.append(("layer\(stage + 1).\(b)",
                                 Sequential([("", Residual(body, shortcut: shortcut, shortcutName: "downsample")), ("relu", ActivationLayer(.relu))])))
                inC = outC
            }
        }
        children.append(("avgpool", GlobalAvgPool()))
        return Backbone(spec: spec, features: Sequential(children), classifier: Linear(inC, 1000, generator: &g), classifierName: "fc",
                        groups: [("early", 0..<stageStart[1]), ("intermediate", stageStart[1]..<stageStart[3]),
                                 ("final", stageStart[3]..<children.count)])
    }
}
