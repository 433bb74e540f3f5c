import Foundation

/// A learning-rate schedule: a factor of each group's base learning rate at every optimiser step.
public enum Schedule: Codable, Equatable, Sendable {
    case constant
    /// × gamma every `every` steps.
    case step(every: Int, gamma: Float)
    /// Linear warm-up from 0 over `warmupSteps`, then cosine decay to `minFactor`.
    case cosine(warmupSteps: Int, minFactor: Float)
    /// PyTorch's OneCycleLR (cosine annealing, two phases): from 1/divFactor up to 1 over the first `pctStart`
    /// of the steps, then down to 1/(divFactor·finalDivFactor).
    case oneCycle(pctStart: Float, divFactor: Float, finalDivFactor: Float)

    public static let defaultOneCycle = Schedule.oneCycle(pctStart: 0.3, divFactor: 25, finalDivFactor: 1e4)

    /// Factor for step `step` (0-based) of `totalSteps`.
    public func factor(step: Int, totalSteps: Int) -> Float {
        switch self {
        case .constant:
            return 1
        case let .step(every, gamma):
            return powf(gamma, Float(step / max(every, 1)))
        case let .cosine(warmup, minFactor):
            if step < warmup { return Float(step) / Float(max(1, warmup)) }
            let progress = min(1, Double(step - warmup) / Double(max(1, totalSteps - warmup)))
            return minFactor + (1 - minFactor) * Float(0.5 * (1 + cos(Double.pi * progress)))
        case let .oneCycle(pctStart, divFactor, finalDivFactor):
            let initial = 1 / Double(divFactor), final = initial / Double(finalDivFactor)
            let peakStep = Double(pctStart) * Double(totalSteps) - 1, lastStep = Double(totalSteps - 1)
            func anneal(_ a: Double, _ b: Double, _ pct: Double) -> Double { b + (a - b) / 2 * (cos(Double.pi * pct) + 1) }
            let s = Double(step)
            if s <= peakStep { return Float(anneal(initial, 1, s / peakStep)) }
            return Float(anneal(1, final, min(1, (s - peakStep) / (lastStep - peakStep))))
        }
    }

    /// Writes every group's learning rate for step `step`.
    public func apply(to groups: [ParameterGroup], step: Int, totalSteps: Int) {
        let f = factor(step: step, totalSteps: totalSteps)
        for g in groups { g.learningRate = g.baseLearningRate * f }
    }
}
