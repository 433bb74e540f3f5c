import Foundation
import Kernels
import Layers

/// How raw pixels become the network's input.
public struct Preprocessing: Codable, Equatable, Sendable {
    /// Square input side in pixels.
    public var resolution: Int
    /// Per-channel mean and std on a 0…1 scale, in the network's channel order.
    public var mean: [Float]
    public var std: [Float]
    public var channelOrder: String = "RGB"
    /// What a 1-channel image becomes.
    public var grayToColor: String = "replicate the gray channel into R, G and B"
    /// Resize the shorter side to this, then centre-crop `resolution` (torchvision's eval transform).
    public var resizeTo: Int

    public static func imagenet(_ resolution: Int = 224, resize: Int = 256) -> Preprocessing {
        Preprocessing(resolution: resolution, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], resizeTo: resize)
    }
}

/// The facts `tlab backbones` lists — all known without building the network.
public struct BackboneSpec: Sendable {
    public let name: String
    public let summary: String
    public let preprocessing: Preprocessing
    public let featureDimension: Int
    /// Group names in order; the new head is added after them by the engine.
    public let groupNames: [String]
    /// Where pretrained weights come from, and the file tlab looks for under weights/.
    public let weightsSource: String
    public var weightsFile: String { "\(name).safetensors" }
    /// Sizes, cost and group contents, written down (checked against the built network by a test).
    public let facts: BackboneFacts

    /// Parameters of the whole pretrained network (features and ImageNet classifier).
    public var parameters: Int { facts.parameters }
    /// GFLOPs of one image at `preprocessing.resolution`.
    public var gflops: Double { facts.gflops }
    /// Parameters of each group ("early", "intermediate", "final").
    public var groupParameters: [String: Int] { Dictionary(uniqueKeysWithValues: facts.groups.map { ($0.name, $0.parameters) }) }
    /// What each group holds, e.g. "stem, blocks 0–4".
    public var groupLayers: [String: String] { Dictionary(uniqueKeysWithValues: facts.groups.map { ($0.name, $0.layers) }) }
}

/// A pretrained network cut for transfer learning: `features` maps an image batch [N, 3, R, R] to pooled
/// features [N, D]; `classifier` is the original ImageNet head (used by `tlab predict`, replaced by a new
/// head when training). `groups` partitions `features`' children into early / intermediate / final.
public final class Backbone {
    public let spec: BackboneSpec
    public let features: Sequential
    public let classifier: Layer
    public let classifierName: String
    public let groups: [(name: String, children: Range<Int>)]

    public init(spec: BackboneSpec, features: Sequential, classifier: Layer, classifierName: String,
                groups: [(String, Range<Int>)]) {
        self.spec = spec; self.features = features; self.classifier = classifier; self.classifierName = classifierName
        self.groups = groups.map { (name: $0.0, children: $0.1) }
        require(self.groups.map(\.name) == spec.groupNames, "\(spec.name): groups \(self.groups.map(\.name)) differ from the spec")
        require(self.groups.first?.children.lowerBound == 0 && self.groups.last?.children.upperBound == features.children.count,
                "\(spec.name): groups must cover every child of features")
    }

    /// Every parameter and buffer under its PyTorch state_dict name.
    public var namedTensors: [(String, Tensor)] {
        features.namedParameters.map { ($0.0, $0.1.value) } + features.namedBuffers
            + prefixed(classifierName, classifier.namedParameters).map { ($0.0, $0.1.value) }
    }

    public var parameterCount: Int { features.parameterCount + classifier.parameterCount }

    /// The layers of one group.
    public func layers(inGroup name: String) -> [Layer] {
        guard let g = groups.first(where: { $0.name == name }) else { return [] }
        return Array(features.layers[g.children])
    }

    /// Sets one group's training policy on its layers: whether its parameters train, and whether its batch
    /// norms use running statistics (`frozenBatchNorm`). A frozen group with frozen batch norm is a fixed
    /// function, so its stochastic depth passes through too (Keras's trainable=False). The one place the
    /// trainer and `tlab bench train --freeze` set a policy.
    public func setPolicy(group name: String, trainable: Bool, frozenBatchNorm: Bool) {
        let layers = layers(inGroup: name)
        for l in layers { l.setTrainable(trainable) }
        let all = layers.flatMap(\.descendants)
        for bn in all.compactMap({ $0 as? BatchNorm }) {
            bn.usesRunningStatistics = frozenBatchNorm
            let bnTrainable = trainable && !frozenBatchNorm
            bn.weight.trainable = bnTrainable; bn.bias.trainable = bnTrainable
        }
        for l in all.compactMap({ $0 as? Stochastic }) { l.passesThrough = !trainable && frozenBatchNorm }
    }

    /// ImageNet logits [N, 1000] (inference mode).
    public func logits(_ x: Tensor) -> Tensor { classifier.forward(features.forward(x, mode: .inference), mode: .inference) }

    /// Multiply-adds × 2 of one forward pass at the spec's resolution, measured by running it on one image.
    public func flops() -> Double {
        let r = spec.preprocessing.resolution
        var total = 0.0
        func visit(_ layer: Layer, _ x: Tensor) -> Tensor {
            let y = layer.forward(x, mode: .inference)
            switch layer {
            case let c as Conv2d: total += c.geometry(for: x.shape).flops
            case let l as Linear: total += 2 * Double(x.count / l.inFeatures) * Double(l.inFeatures * l.outFeatures)
            case let se as SqueezeExcitation:
                total += 2 * 2 * Double(x.shape[0] * se.reduce.inChannels * se.reduce.outChannels)
            case let a as MultiHeadSelfAttention:
                let t = Double(x.shape[1]), d = Double(a.dim)
                total += 2 * t * d * 3 * d + 2 * 2 * t * t * d + 2 * t * d * d
            default: break
            }
            return y
        }
        func walk(_ layer: Layer, _ x: Tensor) -> Tensor {
            switch layer {
            case let s as Sequential: return s.layers.reduce(x) { walk($1, $0) }
            case let r as Residual:
                if let sc = r.shortcut { _ = walk(sc, x) }
                return walk(r.body, x)
            default: return visit(layer, x)
            }
        }
        let pooled = walk(features, Tensor(zeros: [1, 3, r, r]))
        _ = walk(classifier, pooled)
        return total
    }
}

/// y = x.
public final class Identity: Layer {
    public init() {}
    public var namedParameters: [(String, Parameter)] { [] }
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor { x }
    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? { needInputGradient ? dy : nil }
}

func prefixed<T>(_ prefix: String, _ items: [(String, T)]) -> [(String, T)] {
    items.map { (prefix.isEmpty ? $0.0 : prefix + "." + $0.0, $0.1) }
}
