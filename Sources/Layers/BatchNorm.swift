import Kernels

/// Batch normalisation over channel 1 of [N, C, H, W] or [N, C].
///
/// In training mode it normalises with batch statistics and updates the running ones (PyTorch momentum
/// convention: running = (1 − m)·running + m·batch, unbiased variance). `usesRunningStatistics` pins it to
/// inference behaviour even while the rest of the network trains — Keras's behaviour for frozen BatchNorm.
public final class BatchNorm: Layer, ClampFusable {
    public let channels: Int
    public let eps: Float
    public let momentum: Float
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let batchesTracked: Tensor
    public var usesRunningStatistics = false

    private var input: Tensor?
    private var savedMean: Tensor?, savedInvStd: Tensor?
    private var savedBatchStatistics = false

    public init(_ channels: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        self.channels = channels; self.eps = eps; self.momentum = momentum
        weight = Parameter(Tensor(shape: [channels], repeating: 1))
        bias = Parameter(Tensor(zeros: [channels]))
        runningMean = Tensor(zeros: [channels])
        runningVar = Tensor(shape: [channels], repeating: 1)
        batchesTracked = Tensor(zeros: [1])
    }

    public var namedParameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }
    public var namedBuffers: [(String, Tensor)] {
        [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", batchesTracked)]
    }

    /// Whether a forward in `mode` normalises with the running statistics (and so can be folded away).
    public func usesRunningStatistics(in mode: ForwardMode) -> Bool { !mode.training || usesRunningStatistics }

    /// Inference-mode batch norm as y = x·scale + shift per channel.
    public func inferenceScaleShift() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            scale[c] = weight.value.data[c] / (runningVar.data[c] + eps).squareRoot()
            shift[c] = bias.value.data[c] - runningMean.data[c] * scale[c]
        }
        return (scale, shift)
    }

    // x[N, C, …] → y, same shape
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor { forward(x, mode: mode, clamp: .none) }

    /// Batch norm with a ReLU / ReLU6 applied as the output is written (`Sequential` fuses batch norm →
    /// activation this way): one pass over the tensor instead of two, and no pre-activation tensor kept.
    func forward(_ x: Tensor, mode: ForwardMode, clamp: Activation.Clamp) -> Tensor {
        precondition(x.rank >= 2 && x.shape[1] == channels, "BatchNorm(\(channels)) got input \(x.shape)")
        let x = x.contiguous()
        let n = x.shape[0], s = x.count / max(n * channels, 1)
        let y = Tensor(uninitialized: x.shape)
        let mean = Tensor(uninitialized: [channels]), invStd = Tensor(uninitialized: [channels])
        let batchStatistics = mode.training && !usesRunningStatistics
        if batchStatistics {
            precondition(n * s > 1, "BatchNorm in training mode needs more than one value per channel (got \(x.shape))")
            let variance = Tensor(uninitialized: [channels])
            BatchNormKernel.forwardTraining(x: x.data, n: n, c: channels, s: s, eps: eps,
                                            gamma: weight.value.data, beta: bias.value.data, y: y.data,
                                            mean: mean.data, invStd: invStd.data, variance: variance.data, clamp: clamp)
            let m = momentum, unbias = Float(n * s) / Float(n * s - 1)
            for c in 0..<channels {
                runningMean.data[c] = (1 - m) * runningMean.data[c] + m * mean.data[c]
                runningVar.data[c] = (1 - m) * runningVar.data[c] + m * variance.data[c] * unbias
            }
            batchesTracked.data[0] += 1
        } else {
            for c in 0..<channels {
                mean.data[c] = runningMean.data[c]
                invStd.data[c] = 1 / (runningVar.data[c] + eps).squareRoot()
            }
            BatchNormKernel.forwardInference(x: x.data, n: n, c: channels, s: s, mean: mean.data, invStd: invStd.data,
                                             gamma: weight.value.data, beta: bias.value.data, y: y.data, clamp: clamp)
        }
        if mode.keepForBackward {
            input = x; savedMean = mean; savedInvStd = invStd; savedBatchStatistics = batchStatistics
        } else {
            input = nil; savedMean = nil; savedInvStd = nil
        }
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? { backward(dy, needInputGradient: needInputGradient, through: nil) }

    /// With `activation`, dy is the gradient at the output of the ReLU / ReLU6 after this batch norm that
    /// `Sequential` fused into its forward: the activation's mask is applied inside batch norm's backward.
    func backward(_ dy: Tensor, needInputGradient: Bool, through activation: (output: Tensor, clamp: Activation.Clamp)?) -> Tensor? {
        defer { input = nil; savedMean = nil; savedInvStd = nil }
        let x = cached(input, "BatchNorm"), dy = dy.contiguous()
        let n = x.shape[0], s = x.count / max(n * channels, 1)
        let dx = needInputGradient ? Tensor(uninitialized: x.shape) : nil
        BatchNormKernel.backward(x: x.data, dy: dy.data, n: n, c: channels, s: s,
                                 mean: savedMean!.data, invStd: savedInvStd!.data, gamma: weight.value.data,
                                 batchStatistics: savedBatchStatistics, dx: dx?.data,
                                 dGamma: weight.trainable ? weight.grad.data : nil,
                                 dBeta: bias.trainable ? bias.grad.data : nil,
                                 clamped: activation.map { (UnsafePointer($0.output.data), $0.clamp) })
        return dx
    }
}

/// Layer normalisation over the last dimension.
public final class LayerNorm: Layer {
    public let width: Int
    public let eps: Float
    public let weight: Parameter
    public let bias: Parameter
    private var input: Tensor?, savedMean: Tensor?, savedInvStd: Tensor?

    public init(_ width: Int, eps: Float = 1e-5) {
        self.width = width; self.eps = eps
        weight = Parameter(Tensor(shape: [width], repeating: 1))
        bias = Parameter(Tensor(zeros: [width]))
    }

    public var namedParameters: [(String, Parameter)] { [("weight", weight), ("bias", bias)] }

    // x[..., D] → y, same shape
    public func forward(_ x: Tensor, mode: ForwardMode) -> Tensor {
        precondition(x.shape.last == width, "LayerNorm(\(width)) got input \(x.shape)")
        let x = x.contiguous(), rows = x.count / width
        let y = Tensor(uninitialized: x.shape)
        let mean = Tensor(uninitialized: [rows]), invStd = Tensor(uninitialized: [rows])
        LayerNormKernel.forward(x: x.data, rows: rows, width: width, eps: eps, gamma: weight.value.data,
                                beta: bias.value.data, y: y.data, mean: mean.data, invStd: invStd.data)
        if mode.keepForBackward { input = x; savedMean = mean; savedInvStd = invStd } else { input = nil }
        return y
    }

    public func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? {
        defer { input = nil; savedMean = nil; savedInvStd = nil }
        let x = cached(input, "LayerNorm"), dy = dy.contiguous(), rows = x.count / width
        let dx = needInputGradient ? Tensor(uninitialized: x.shape) : nil
        LayerNormKernel.backward(x: x.data, dy: dy.data, rows: rows, width: width, mean: savedMean!.data,
                                 invStd: savedInvStd!.data, gamma: weight.value.data, dx: dx?.data,
                                 dGamma: weight.trainable ? weight.grad.data : nil,
                                 dBeta: bias.trainable ? bias.grad.data : nil)
        return dx
    }
}
