import Kernels
import Layers

extension Backbones {
    /// torchvision MobileNetV2 (width 1.0): stem, 17 inverted-residual blocks (t, c, n, s table), 1×1 to 1280.
    static func mobileNetV2(spec: BackboneSpec) -> Backbone {
        var g = SeededGenerator(seed: 0)
        let table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        var children: [(String, Layer)] = [
            ("features.0.0", Conv2d(3, 32, kernel: 3, stride: 2, padding: .explicit(1, 1), bias: false, generator: &g)),
            ("features.0.1", BatchNorm(32)), ("stem_act", ActivationLayer(.relu6)),
        ]
        var inC = 32, index = 1, blockStart: [Int: Int] = [:]
        for (t, c, n, s) in table {
            for r in 0..<n {
                let stride = r == 0 ? s : 1, hidden = inC * t
                var layers: [(String, Layer)] = []
                var j = 0
                if t != 1 {
                    layers += [("conv.0.0", Conv2d(inC, hidden, kernel: 1, bias: false, generator: &g)), ("conv.0.1", BatchNorm(hidden)), ("act0", ActivationLayer(.relu6))]
                    j = 1
                }
                layers += [("conv.\(j).0", Conv2d(hidden, hidden, kernel: 3, stride: stride, padding: .explicit(1, 1), groups: hidden, bias: false, generator: &g)),
                           ("conv.\(j).1", BatchNorm(hidden)), ("act1", ActivationLayer(.relu6)),
                           ("conv.\(j + 1)", Conv2d(hidden, c, kernel: 1, bias: false, generator: &g)), ("conv.\(j + 2)", BatchNorm(c))]
                let body = Sequential(layers)
                blockStart[index] = children.count
                children.append(("features.\(index)", stride == 1 && inC == c ? Residual(body) : body))
                inC = c; index += 1
            }
        }
        children += [("features.18.0", Conv2d(320, 1280, kernel: 1, bias: false, generator: &g)), ("features.18.1", BatchNorm(1280)),
                     ("head_act", ActivationLayer(.relu6)), ("pool", GlobalAvgPool())]
        return Backbone(spec: spec, features: Sequential(children), classifier: Linear(1280, 1000, generator: &g), classifierName: "classifier.1",
                        groups: [("early", 0..<blockStart[4]!), ("intermediate", blockStart[4]!..<blockStart[14]!),
                                 ("final", blockStart[14]!..<children.count)])
    }
}
