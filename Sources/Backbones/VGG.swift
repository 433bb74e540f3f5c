import Kernels
import Layers

extension Backbones {
    /// torchvision VGG-16 (configuration D), optionally with batch norm after every convolution. Features
    /// are fc7's 4096 activations (classifier.0 … classifier.5); classifier.6 is the ImageNet head.
    static func vgg16(spec: BackboneSpec, batchNorm: Bool) -> Backbone {
        var g = SeededGenerator(seed: 0)
        let plan = [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]  // 0 = max-pool
        var children: [(String, Layer)] = []
        var index = 0, inC = 3, poolEnds: [Int] = []
        for width in plan {
            if width == 0 {
                children.append(("features.\(index)", MaxPool2d(kernel: 2))); index += 1
                poolEnds.append(children.count)
                continue
            }
            children.append(("features.\(index)", Conv2d(inC, width, kernel: 3, padding: .explicit(1, 1), generator: &g))); index += 1
            if batchNorm { children.append(("features.\(index)", BatchNorm(width))); index += 1 }
            children.append(("features.\(index)", ActivationLayer(.relu))); index += 1
            inC = width
        }
        children += [
            ("avgpool", AdaptiveAvgPool2d(7)), ("flatten", Flatten()),
            ("classifier.0", Linear(512 * 49, 4096, generator: &g)), ("classifier.1", ActivationLayer(.relu)), ("classifier.2", Dropout(0.5)),
            ("classifier.3", Linear(4096, 4096, generator: &g)), ("classifier.4", ActivationLayer(.relu)), ("classifier.5", Dropout(0.5, seed: 1)),
        ]
        return Backbone(spec: spec, features: Sequential(children), classifier: Linear(4096, 1000, generator: &g), classifierName: "classifier.6",
                        groups: [("early", 0..<poolEnds[1]), ("intermediate", poolEnds[1]..<poolEnds[3]), ("final", poolEnds[3]..<children.count)])
    }
}

