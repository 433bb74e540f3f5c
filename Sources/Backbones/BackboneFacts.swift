/// What `tlab backbones` and the workbench print about a backbone without building it: parameter counts,
/// cost and what each layer group holds. Written down in the registry next to each spec (building a network
/// takes seconds); a test builds every network and checks these against the computed values, so they cannot
/// go stale.
public struct BackboneFacts: Sendable, Equatable {
    /// Parameters of the whole pretrained network (features and ImageNet classifier).
    public var parameters: Int
    /// GFLOPs (2 × multiply-adds) of one image at the spec's resolution: `Backbone.flops() / 1e9`.
    public var gflops: Double
    /// Per group: its parameters and a short description of its layers (`Backbone.layerSummary(ofGroup:)`).
    public var groups: [(name: String, parameters: Int, layers: String)]

    public init(parameters: Int, gflops: Double, groups: [(String, Int, String)]) {
        self.parameters = parameters; self.gflops = gflops
        self.groups = groups.map { (name: $0.0, parameters: $0.1, layers: $0.2) }
    }

    public static func == (a: BackboneFacts, b: BackboneFacts) -> Bool {
        a.parameters == b.parameters && a.gflops == b.gflops
            && a.groups.map(\.name) == b.groups.map(\.name) && a.groups.map(\.parameters) == b.groups.map(\.parameters)
            && a.groups.map(\.layers) == b.groups.map(\.layers)
    }
}

extension Backbone {
    /// The facts as computed from this network (what the registry's written-down facts must equal).
    public func computedFacts() -> BackboneFacts {
        BackboneFacts(parameters: parameterCount, gflops: flops() / 1e9, groups: groups.map { g in
            (g.name, layers(inGroup: g.name).reduce(0) { $0 + $1.parameterCount }, layerSummary(ofGroup: g.name))
        })
    }

    /// A short description of a group's layers from its children's names: numbered blocks collapse into ranges
    /// ("blocks 0–4", or just "layer1" when the group holds all of them), stems and projections get their
    /// common names, and layers that only accompany others (BatchNorm, activations, pooling, the token
    /// bookkeeping) are left out. ResNet-18's early group: "conv1, layer1".
    public func layerSummary(ofGroup name: String) -> String {
        guard let g = groups.first(where: { $0.name == name }) else { return "" }
        let all = features.children.map { LayerName($0.0) }
        var parts: [(unit: String, first: Int?, last: Int?)] = []
        for n in all[g.children] where !n.isMinor {
            if let last = parts.last, n.index != nil, last.unit == n.unit, last.last != nil {
                parts[parts.count - 1].last = n.index
            } else {
                parts.append((n.unit, n.index, n.index))
            }
        }
        return parts.map { p in
            guard let first = p.first, let last = p.last else { return p.unit }
            // The whole numbered run, when no other group has any of it, is named by its unit alone.
            let everywhere = all.enumerated().filter { $0.element.unit == p.unit && $0.element.index != nil }.map(\.offset)
            if everywhere.allSatisfy(g.children.contains) { return p.unit }
            return first == last ? "\(p.unit) \(first)" : "\(p.unit) \(first)–\(last)"
        }.joined(separator: ", ")
    }
}

/// A child's PyTorch name read as a unit and an optional block number: `_blocks.3` → blocks 3,
/// `layer2.1` → layer2 (its block), `features.6.2` → features 6, `encoder.layers.encoder_layer_5` →
/// encoder layers 5, `_conv_stem` → stem.
struct LayerName {
    let unit: String
    let index: Int?
    let isMinor: Bool

    init(_ name: String) {
        let parts = name.split(separator: ".").map(String.init)
        func readable(_ s: ArraySlice<String>) -> String {
            s.map { ($0.hasPrefix("_") ? String($0.dropFirst()) : $0).replacingOccurrences(of: "_", with: " ") }.joined(separator: " ")
        }
        let leaf = parts.last.map { $0.hasPrefix("_") ? String($0.dropFirst()) : $0 } ?? ""
        isMinor = ["", "relu", "maxpool", "avgpool", "pool", "flatten", "tokens", "cls", "ln", "norm"].contains(leaf)
            || leaf.hasSuffix("act") || (leaf.hasPrefix("bn") && leaf.dropFirst(2).allSatisfy(\.isNumber))
        if let i = parts.firstIndex(where: { Int($0) != nil }) {
            unit = readable(parts[..<i]); index = Int(parts[i])
        } else if parts.count > 1, let us = leaf.lastIndex(of: "_"), let n = Int(leaf[leaf.index(after: us)...]) {
            unit = readable(parts.dropLast()); index = n
        } else if name.contains("stem") {
            unit = "stem"; index = nil
        } else if name == "conv_proj" || name.hasPrefix("patch_embed") {
            unit = "patch embedding"; index = nil
        } else {
            unit = readable(parts[...]); index = nil
        }
    }
}
