import Foundation
import Kernels

/// 2-D convolution, NCHW, PyTorch weight layout [out, in/groups, kH, kW].
public final class Conv2d: Layer {
    public let inChannels, outChannels: Int
    public let kernel: (Int, Int), stride: (Int, Int), dilation: (Int, Int)
    public let padding: Padding
    public let groups: Int
    public let weight: Parameter
    public let bias: Parameter?
    private var input: Tensor?
    private var geometry: ConvGeometry?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Padding = .explicit(0, 0),
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: inout SeededGenerator) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = (kernel, kernel); self.stride = (stride, stride); self.dilation = (dilation, dilation)
        self.padding = padding; self.groups = groups
        // Kaiming-uniform fan-in bound, as PyTorch's default init (a = √5 → bound = 1/√fan_in).
        let fanIn = inChannels / groups * kernel * kernel
        let bound = 1 / Float(fanIn).squareRoot()
        weight = Parameter(.randomUniform([outChannels, inChannels / groups, kernel, kernel], -bound, bound, generator: &generator))
        self.bias = bias ? Parameter(.randomUniform([outChannels], -bound, bound, generator: &generator)) : nil
    }

    public var namedParameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public func geometry(for shape: [Int]) -> ConvGeometry {
        precondition(shape.count == 4 && shape[1] == inChannels, "Conv2d(\(inChannels)→\(outChannels)) got input \(shape)")
        return ConvGeometry(batch: shape[0], inChannels: inChannels, height: shape[2], width: shape[3],
                            outChannels: outChannels, kernel: kernel, stride: stride, dilation: dilation,
                            padding: padding, groups: groups)
    }

    // x[N, inC, H, W] → y[N, outC, outH, outW]
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        let x = x.contiguous()
        let g = geometry(for: x.shape)
        let y = Tensor(uninitialized: g.outShape)
        Conv2D.forward(g, x: x.data, weight: weight.value.data, bias: bias?.value.data, y: y.data)
        input = mode.keepForBackward ? x : nil
        geometry = g
        return y
    }

    /// Inference-only conv → batch norm (running statistics) → activation in one pass: the batch norm is
    /// folded into a scaled copy of the weights and a bias, the activation applied as the output is written.
    /// Nothing is kept for backward.
    /// `inputScales` ([N, inC], a squeeze-excitation gate) scales each image's input channels first, applied
    /// to the folded weights image by image (see `Conv2D.forward`).
    public func forwardFolding(_ bn: BatchNorm, activation: Activation, _ x: Tensor, inputScales: Tensor? = nil) -> Tensor {
        let x = x.contiguous()
        let g = geometry(for: x.shape)
        let y = Tensor(uninitialized: g.outShape)
        withFolded(bn) { w, b in
            Conv2D.forward(g, x: x.data, weight: w, bias: b, y: y.data, activation: activation, inputScales: inputScales?.contiguous().data)
        }
        input = nil
        geometry = g
        return y
    }

    /// Inference-only pointwise conv → batch norm → activation → depthwise conv → batch norm → activation (MBConv's
    /// expand and depthwise halves), both folded, run per channel group so the expanded tensor never goes to
    /// memory (`PointwiseDepthwise`); nil, with nothing done, when the pair does not qualify.
    public func forwardFolding(_ bn: BatchNorm, activation: Activation, thenDepthwise depthwise: Conv2d, _ bn1: BatchNorm,
                               activation activation1: Activation, _ x: Tensor) -> Tensor? {
        guard x.shape.count == 4, x.shape[1] == inChannels, depthwise.inChannels == outChannels else { return nil }
        let g = geometry(for: x.shape)
        let gd = depthwise.geometry(for: [g.batch, outChannels, g.outH, g.outW])
        guard PointwiseDepthwise.applies(expand: g, depthwise: gd) else { return nil }
        let x = x.contiguous()
        let y = Tensor(uninitialized: gd.outShape)
        withFolded(bn) { w, b in
            depthwise.withFolded(bn1) { wd, bd in
                PointwiseDepthwise.forward(expand: g, depthwise: gd, x: x.data, expandWeight: w, expandBias: b, expandActivation: activation,
                                           depthwiseWeight: wd, depthwiseBias: bd, depthwiseActivation: activation1, y: y.data)
            }
        }
        input = nil; geometry = g
        depthwise.input = nil; depthwise.geometry = gd
        return y
    }

    /// The weights scaled by the batch norm's inference scale, and the bias it folds to, for the length of `body`.
    func withFolded<R>(_ bn: BatchNorm, _ body: (UnsafePointer<Float>, UnsafePointer<Float>) -> R) -> R {
        let (scale, shift) = bn.inferenceScaleShift()
        let perOut = weight.value.count / outChannels
        return Workspace.shared.with(weight.value.count + outChannels) { folded in
            let w = weight.value.data, b = folded + weight.value.count
            for co in 0..<outChannels {
                let s = scale[co]
                for q in 0..<perOut { folded[co * perOut + q] = w[co * perOut + q] * s }
                b[co] = (bias?.value.data[co] ?? 0) * s + shift[co]
            }
            return body(folded, b)
        }
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        defer { input = nil }
        let x = cached(input, "Conv2d"), g = geometry!
        let dy = dy.contiguous()
        let dx = needInputGradient ? Tensor(uninitialized: g.inShape) : nil
        Conv2D.backward(g, x: x.data, weight: weight.value.data, dy: dy.data, dx: dx?.data,
                        dWeight: weight.trainable ? weight.grad.data : nil,
                        dBias: (bias?.trainable ?? false) ? bias!.grad.data : nil)
        return dx
    }
}
