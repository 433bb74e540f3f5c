import Backbones
import ImageData
import Kernels
import Layers

/// The output of a run's fixed prefix (groups frozen with frozen batch norm for the whole run: fine-tune-top's
/// early group) for training images whose only augmentation is flips. Such an image enters the network in one
/// of at most four forms (flipped horizontally, vertically, both, neither), and the prefix maps a form to the
/// same activations every time: frozen weights, running statistics, stochastic layers passing through, and an
/// image's result does not depend on the rest of its batch. So each (image, flips) pair runs through the
/// prefix the first time the shuffle draws it and is copied from memory after that — with both flips about a
/// quarter of epoch 2's images, half of epoch 3's, nine in ten by epoch 8 — bit-identical to running it again.
/// Pairs are kept while they fit `capacityBytes`; pairs drawn after that run through the prefix every time.
public final class FlippedPrefixCache {
    public let prefix: Sequential, rest: Sequential
    public let augmentation: Augmentation
    /// One image's activations at the boundary, [C, H, W].
    public let imageShape: [Int]
    public let floatsPerImage: Int
    /// The most pairs kept.
    public let capacity: Int
    private var chunks: [Tensor] = []
    private var slots: [Int: Int] = [:]
    private static let pairsPerChunk = 64

    /// What the prefix runs in, as a Sequential running the whole network in training runs its frozen front
    /// children: training mode, nothing kept for backward, no input gradient.
    public static let prefixMode = ForwardMode(training: true, keepForBackward: false, inputGradient: false)

    public init(net: Backbone, end: Int, crop: Int, augmentation: Augmentation, capacityBytes: Int) {
        precondition(augmentation.isFlipsOnly, "only flips leave an image a few fixed forms")
        prefix = Sequential(Array(net.features.children[..<end]))
        rest = Sequential(Array(net.features.children[end...]))
        self.augmentation = augmentation
        imageShape = Experiment.activationShape(net, through: end, crop: crop)
        floatsPerImage = imageShape.reduce(1, *)
        capacity = capacityBytes / (floatsPerImage * 4)
    }

    /// Pairs held now.
    public var count: Int { slots.count }

    /// The key of `sample` in the form its augmentation seed draws (as `ImageBatch.load` draws it).
    public func key(sample: Int, seed: UInt64?) -> Int {
        guard let seed else { return sample * 4 }
        var g = SeededGenerator(seed: seed)
        let flips = augmentation.drawFlips(&g)
        return sample * 4 + (flips.horizontal ? 1 : 0) + (flips.vertical ? 2 : 0)
    }

    /// A batch's pairs and the positions whose pairs are not held (their images must be loaded and run).
    public struct Plan {
        public let keys: [Int]
        public let missing: [Int]
    }

    public func plan(samples: [Int], seeds: [UInt64]?) -> Plan {
        let keys = samples.indices.map { key(sample: samples[$0], seed: seeds?[$0]) }
        return Plan(keys: keys, missing: keys.indices.filter { slots[keys[$0]] == nil })
    }

    /// The prefix's output for the whole batch [N, C, H, W]: the missing positions from `images` (theirs, in
    /// `plan.missing` order) run through the prefix now and, with `keepingNew`, kept while room remains; the
    /// others from memory. (A run's last epoch keeps nothing new: nothing would read it, and each pair kept
    /// is a copy into memory the process has not touched yet, whose page faults cost more than the copy.)
    public func activations(_ plan: Plan, images: Tensor, keepingNew: Bool = true) -> Tensor {
        let out = Tensor(uninitialized: [plan.keys.count] + imageShape), d = floatsPerImage
        if !plan.missing.isEmpty {
            precondition(images.shape.first == plan.missing.count, "one image per missing pair")
            let computed = prefix.forward(images, mode: Self.prefixMode).contiguous()
            for (r, position) in plan.missing.enumerated() {
                let src = computed.data + r * d
                (out.data + position * d).update(from: src, count: d)
                if keepingNew { store(plan.keys[position], src) }
            }
        }
        let missing = Set(plan.missing)
        for (position, key) in plan.keys.enumerated() where !missing.contains(position) {
            (out.data + position * d).update(from: pointer(slots[key]!), count: d)
        }
        return out
    }

    private func pointer(_ slot: Int) -> UnsafeMutablePointer<Float> {
        chunks[slot / Self.pairsPerChunk].data + (slot % Self.pairsPerChunk) * floatsPerImage
    }

    private func store(_ key: Int, _ src: UnsafePointer<Float>) {
        guard slots[key] == nil, slots.count < capacity else { return }
        let slot = slots.count
        if slot / Self.pairsPerChunk == chunks.count {
            chunks.append(Tensor(uninitialized: [min(Self.pairsPerChunk, capacity - slot), floatsPerImage]))
        }
        pointer(slot).update(from: src, count: floatsPerImage)
        slots[key] = slot
    }
}
