/// Inference: a folded pointwise convolution (bias, activation) whose output only feeds a folded depthwise
/// convolution (bias, activation) — MBConv's expand → depthwise — run one group of channels of one image at a
/// time, so the expanded planes are written to and read from the core's L2 instead of memory.
///
/// At 112×112 and 56×56 the expanded tensor (32 × 96 × 112 × 112 floats = 154 MB for Lite0's second block) is
/// written once by the expand convolution and read back by the depthwise one; both layers were bound by that
/// traffic, not by arithmetic. Here the work goes across cores as (image, channel group) items: for a group it
/// runs the expand GEMM rows into a scratch of about 1 MB (bias first, GEMM adding to it, then the activation),
/// then the depthwise planes of those channels from the scratch into the output. Every value is computed by the
/// same operations in the same order as the two layers apart, so the output is bit-identical.
public enum PointwiseDepthwise {
    /// Floats of expanded planes one group may hold (1 MB): a group's planes stay in L2 (2 MB here).
    static let groupFloats = 256 << 10

    /// Whether `expand` → `depthwise` can run fused: a pointwise convolution with one group whose output is
    /// exactly the depthwise convolution's input.
    public static func applies(expand e: ConvGeometry, depthwise d: ConvGeometry) -> Bool {
        e.isPointwise && e.groups == 1 && d.isDepthwise && e.batch == d.batch && e.outChannels == d.inChannels
            && e.outH == d.height && e.outW == d.width
    }

    /// Channels per group for planes of `plane` floats: a multiple of 8 (GEMM rows) when it can be.
    static func groupChannels(plane: Int, channels: Int) -> Int {
        min(channels, max(8, groupFloats / max(plane, 1) / 8 * 8))
    }

    public static func forward(expand e: ConvGeometry, depthwise d: ConvGeometry, x: UnsafePointer<Float>,
                               expandWeight: UnsafePointer<Float>, expandBias: UnsafePointer<Float>, expandActivation: Activation,
                               depthwiseWeight: UnsafePointer<Float>, depthwiseBias: UnsafePointer<Float>, depthwiseActivation: Activation,
                               y: UnsafeMutablePointer<Float>) {
        precondition(applies(expand: e, depthwise: d))
        let hw = e.outH * e.outW, hidden = e.outChannels, cin = e.inChannels
        let outPlane = d.outH * d.outW, kk = d.kernelH * d.kernelW
        let group = groupChannels(plane: hw, channels: hidden)
        let plan = Depthwise.PlanePlan(d)
        // Work items are (image, channel group), so that a batch smaller than the core count still uses every core.
        let groups = (hidden + group - 1) / group, perCore = group * hw + plan.scratchFloats
        let parts = Parallel.contiguousParts(e.batch * groups)
        Workspace.shared.with(perCore * parts.count) { scratch in
            BLASThreads.perCore(parts.count) { r in
                for part in r {
                    let expanded = scratch + part * perCore, padded = expanded + group * hw
                    padded.update(repeating: 0, count: plan.scratchFloats)
                    for item in parts[part] {
                        let n = item / groups, c0 = (item % groups) * group, g = min(group, hidden - c0)
                        let xn = x + n * cin * hw, yn = y + n * hidden * outPlane
                        for c in 0..<g { (expanded + c * hw).update(repeating: expandBias[c0 + c], count: hw) }
                        sgemm(m: g, n: hw, k: cin, a: expandWeight + c0 * cin, lda: cin, b: xn, ldb: hw, beta: 1, c: expanded, ldc: hw)
                        if expandActivation != .identity { expandActivation.apply(from: expanded, to: expanded, count: g * hw) }
                        plan.run(0..<g, scratch: padded, x: expanded, y: yn + c0 * outPlane,
                                 weights: { depthwiseWeight + (c0 + $0) * kk }, bias: { depthwiseBias[c0 + $0] },
                                 activation: depthwiseActivation)
                    }
                }
            }
        }
    }
}
