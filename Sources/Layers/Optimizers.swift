import Foundation
import Kernels

/// Parameters that share a learning rate and weight decay, as PyTorch's optimizer param_groups.
public final class ParameterGroup {
    public let name: String
    public let parameters: [Parameter]
    /// The learning rate the schedule scales.
    public var baseLearningRate: Float
    /// The learning rate the next step uses (the schedule writes it).
    public var learningRate: Float
    public var weightDecay: Float

    public init(name: String, parameters: [Parameter], learningRate: Float, weightDecay: Float = 0) {
        self.name = name; self.parameters = parameters
        baseLearningRate = learningRate; self.learningRate = learningRate; self.weightDecay = weightDecay
    }
}

/// Updates parameters from their gradients. Frozen parameters (`trainable == false`) are never touched.
public protocol Optimizer: AnyObject {
    var groups: [ParameterGroup] { get }
    /// Completed steps.
    var stepCount: Int { get }
    func step()
    /// Per-parameter state tensors by "group.index.slot", for checkpoints.
    var state: [(String, Tensor)] { get }
    /// Puts back what `state` and `stepCount` were when a checkpoint was written.
    func restore(state: [String: Tensor], stepCount: Int) throws
}

public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}

extension Optimizer {
    /// Copies every slot of `state` from `saved`, refusing a missing or misshapen one by name.
    func copySlots(from saved: [String: Tensor]) throws {
        for (name, t) in state {
            guard let s = saved[name] else { throw OptimizerStateError(description: "optimizer state \(name) is missing") }
            guard s.shape == t.shape else { throw OptimizerStateError(description: "optimizer state \(name) has shape \(s.shape), expected \(t.shape)") }
            t.data.update(from: s.contiguous().data, count: t.count)
        }
    }
}

extension Optimizer {
    public func zeroGrad() { for g in groups { for p in g.parameters { p.zeroGrad() } } }
}

/// SGD with optional momentum and Nesterov, PyTorch semantics: L2 weight decay is added to the gradient,
/// the first momentum buffer is the gradient itself, dampening 0.
public final class SGD: Optimizer {
    public let groups: [ParameterGroup]
    public let momentum: Float
    public let nesterov: Bool
    public private(set) var stepCount = 0
    private var velocity: [[Tensor]]

    public init(groups: [ParameterGroup], momentum: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
        self.groups = groups; self.momentum = momentum; self.nesterov = nesterov
        velocity = groups.map { $0.parameters.map { Tensor(zeros: $0.value.shape) } }
    }

    public func restore(state saved: [String: Tensor], stepCount: Int) throws {
        try copySlots(from: saved); self.stepCount = stepCount
    }

    public var state: [(String, Tensor)] {
        velocity.enumerated().flatMap { gi, ts in ts.enumerated().map { ("\(gi).\($0.offset).momentum", $0.element) } }
    }

    public func step() {
        let first = stepCount == 0
        for (gi, group) in groups.enumerated() {
            let lr = group.learningRate, wd = group.weightDecay, mu = momentum, nest = nesterov
            for (pi, p) in group.parameters.enumerated() where p.trainable {
                let w = p.value.data, g = p.grad.data, v = velocity[gi][pi].data
                Parallel.forEach(p.value.count, grain: 1 << 14) { r in
                    for i in r {
                        var d = g[i] + wd * w[i]
                        if mu != 0 {
                            v[i] = first ? d : mu * v[i] + d
                            d = nest ? d + mu * v[i] : v[i]
                        }
                        w[i] -= lr * d
                    }
                }
            }
        }
        stepCount += 1
    }
}

/// AdamW (Loshchilov & Hutter), PyTorch semantics: decoupled decay p ← p·(1 − lr·wd), bias-corrected moments.
public final class AdamW: Optimizer {
    public let groups: [ParameterGroup]
    public let beta1, beta2, eps: Float
    public private(set) var stepCount = 0
    private var m: [[Tensor]], v: [[Tensor]]

    public init(groups: [ParameterGroup], beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
        self.groups = groups; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        m = groups.map { $0.parameters.map { Tensor(zeros: $0.value.shape) } }
        v = groups.map { $0.parameters.map { Tensor(zeros: $0.value.shape) } }
    }

    public func restore(state saved: [String: Tensor], stepCount: Int) throws {
        try copySlots(from: saved); self.stepCount = stepCount
    }

    public var state: [(String, Tensor)] {
        var out: [(String, Tensor)] = []
        for gi in m.indices { for pi in m[gi].indices { out += [("\(gi).\(pi).exp_avg", m[gi][pi]), ("\(gi).\(pi).exp_avg_sq", v[gi][pi])] } }
        return out
    }

    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let c1 = Float(1 - pow(Double(beta1), t)), c2 = Float(1 - pow(Double(beta2), t))
        for (gi, group) in groups.enumerated() {
            let lr = group.learningRate, decay = 1 - group.learningRate * group.weightDecay
            let b1 = beta1, b2 = beta2, eps = eps, sqrtC2 = c2.squareRoot()
            for (pi, p) in group.parameters.enumerated() where p.trainable {
                let w = p.value.data, g = p.grad.data, mm = m[gi][pi].data, vv = v[gi][pi].data
                Parallel.forEach(p.value.count, grain: 1 << 14) { r in
                    for i in r {
                        w[i] *= decay
                        mm[i] = b1 * mm[i] + (1 - b1) * g[i]
                        vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i]
                        w[i] -= lr * (mm[i] / c1) / ((vv[i]).squareRoot() / sqrtC2 + eps)
                    }
                }
            }
        }
    }
}
