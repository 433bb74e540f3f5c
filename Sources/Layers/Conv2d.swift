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
    public func forwardFolding(_ bn: BatchNorm, activation: Activation, _ x: Tensor) -> Tensor {
        let x = x.contiguous()
        let g = geometry(for: x.shape)
        let (scale, shift) = bn.inferenceScaleShift()
        let perOut = weight.value.count / outChannels
        let y = Tensor(uninitialized: g.outShape)
        Workspace.shared.with(weight.value.count + outChannels) { folded in
            let w = weight.value.data, b = folded + weight.value.count
            for co in 0..<outChannels {
                let s = scale[co]
                for q in 0..<perOut { folded[co * perOut + q] = w[co * perOut + q] * s }
                b[co] = (bias?.value.data[co] ?? 0) * s + shift[co]
            }
            Conv2D.forward(g, x: x.data, weight: folded, bias: b, y: y.data, activation: activation)
        }
        input = nil
        geometry = g
        return y
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
