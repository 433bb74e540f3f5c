import Foundation
import Kernels
import WeightsIO

extension Backbone {
    /// Copies `stateDict` into the network by PyTorch name. Every mismatch is reported by name — missing
    /// keys, unexpected keys, wrong shapes — and nothing is copied unless everything fits.
    /// With `includeClassifier: false` the ImageNet head may be absent (headless checkpoints).
    public func load(_ stateDict: StateDict, includeClassifier: Bool = true) throws {
        let targets = Dictionary(namedTensors, uniquingKeysWith: { a, _ in a })
        let classifierPrefix = classifierName + "."
        var problems: [String] = []
        let given = Set(stateDict.names)
        let missing = targets.keys.filter { !given.contains($0) && (includeClassifier || !$0.hasPrefix(classifierPrefix)) }
            .filter { !$0.hasSuffix("num_batches_tracked") }.sorted()
        if !missing.isEmpty { problems.append("missing: " + missing.joined(separator: ", ")) }
        let unexpected = stateDict.names.filter { targets[$0] == nil }
        if !unexpected.isEmpty { problems.append("unexpected: " + unexpected.joined(separator: ", ")) }
        for (name, t) in stateDict.entries {
            guard let target = targets[name] else { continue }
            // PyTorch stores scalars such as num_batches_tracked with shape []; tlab keeps them as [1].
            if target.shape != t.shape && !(t.count == 1 && target.count == 1) {
                problems.append("\(name): checkpoint has shape \(t.shape), \(spec.name) expects \(target.shape)")
            }
        }
        guard problems.isEmpty else {
            throw WeightsError("weights do not fit \(spec.name):\n  " + problems.joined(separator: "\n  "))
        }
        for (name, t) in stateDict.entries {
            guard let target = targets[name] else { continue }
            let src = t.contiguous()
            target.data.update(from: src.data, count: target.count)
        }
    }

    /// The network's tensors as a state dict (for export and round trips).
    public func stateDict(metadata: [String: String] = [:]) -> StateDict {
        StateDict(entries: namedTensors.map { (name: $0.0, tensor: $0.1.copy()) }, metadata: metadata)
    }
}

/// Deterministic synthetic weights and inputs that `scripts/parity_fixtures.py` reproduces bit for bit:
/// integer hashing only, so Swift and Python agree exactly before the final conversion to float.
public enum SyntheticWeights {
    /// FNV-1a over the UTF-8 bytes.
    public static func nameHash(_ s: String) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in s.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }

    /// Uniform in [0, 1) for element `i` of the tensor called `name`.
    @inline(__always) public static func unit(_ seed: UInt32, _ i: Int) -> Double {
        var x = seed &+ UInt32(truncatingIfNeeded: i) &* 2_654_435_761
        x ^= x >> 15; x = x &* 0x2C1B_3C6D; x ^= x >> 12; x = x &* 0x297A_2D39; x ^= x >> 15
        return Double(x) / 4_294_967_296.0
    }

    /// The value rule, by the tensor's PyTorch name and shape: v = offset + scale·(2u − 1).
    public static func fill(_ t: Tensor, name: String) {
        let h = nameHash(name), n = t.count, shape = t.shape
        let fanIn = shape.count >= 2 ? max(1, n / shape[0]) : 1
        let (offset, scale): (Double, Double)
        if name.hasSuffix("num_batches_tracked") { (offset, scale) = (0, 0) }
        else if name.hasSuffix("running_var") { (offset, scale) = (1, 0.5) }     // 0.5 + u
        else if name.hasSuffix("running_mean") { (offset, scale) = (0, 0.1) }
        else if name.hasSuffix("bias") { (offset, scale) = (0, 0.1) }
        else if shape.count == 1 { (offset, scale) = (1, 0.2) }                  // a norm layer's scale
        else if name.contains("token") || name.contains("pos_embed") { (offset, scale) = (0, 0.02) }
        else { (offset, scale) = (0, (3.0 / Double(fanIn)).squareRoot()) }
        let p = t.data
        if name.hasSuffix("running_var") {
            for i in 0..<n { p[i] = Float(0.5 + unit(h, i)) }
        } else {
            for i in 0..<n { p[i] = Float(offset + (2 * unit(h, i) - 1) * scale) }
        }
    }

    public static func apply(to backbone: Backbone) {
        for (name, t) in backbone.namedTensors { fill(t, name: name) }
    }

    /// The parity input: values in [−1, 1).
    public static func input(_ shape: [Int], label: String = "input") -> Tensor {
        let t = Tensor(uninitialized: shape), h = nameHash(label)
        for i in 0..<t.count { t.data[i] = Float(2 * unit(h, i) - 1) }
        return t
    }

    /// The probe r in L = Σ logits ⊙ r whose gradient the fixtures record.
    public static func probe(_ shape: [Int]) -> Tensor {
        let t = Tensor(uninitialized: shape), h = nameHash("probe")
        for i in 0..<t.count { t.data[i] = Float(2 * unit(h, i) - 1) }
        return t
    }
}
