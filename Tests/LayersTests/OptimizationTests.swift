import XCTest
import Kernels
import Layers

/// Losses, optimisers and schedules against values PyTorch 2.15 computed for the same inputs
/// (torch.nn.functional.cross_entropy, torch.optim.SGD/AdamW, torch.optim.lr_scheduler.OneCycleLR).
final class OptimizationTests: XCTestCase {
    let logits = Tensor(shape: [4, 3], values: [1.0, -0.5, 2.0, 0.3, 0.2, -1.0, -2.0, 1.5, 0.5, 0, 0, 0])
    let targets = [2, 0, 1, 1]

    func assertClose(_ a: [Float], _ b: [Float], _ tol: Float = 2e-6, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: tol, file: file, line: line) }
    }

    func testCrossEntropyMatchesPyTorch() {
        let w: [Float] = [1, 2, 0.5]
        let cases: [(Float, [Float]?, Float, [Float])] = [
            (0, nil, 0.6458415985, [0.063429, 0.0141529, -0.077582, -0.1351825, 0.1038911, 0.0312914, 0.0053998, -0.0711829, 0.0657831, 0.0833333, -0.1666667, 0.0833333]),
            (0.1, nil, 0.7241749167, [0.0550957, 0.0058196, -0.0609153, -0.1185159, 0.0955578, 0.0229581, -0.0029335, -0.0545163, 0.0574498, 0.075, -0.15, 0.075]),
            (0, w, 0.6966011524, [0.0230651, 0.0051465, -0.0282116, -0.0983146, 0.0755572, 0.0227574, 0.0078543, -0.1035388, 0.0956846, 0.1212121, -0.2424242, 0.1212121]),
            (0.2, w, 0.7983934880, [0.0170946, -0.0177235, 0.0006289, -0.0712887, 0.0538333, 0.0174554, -0.0049215, -0.0767288, 0.0816502, 0.0989899, -0.2040404, 0.1050505]),
        ]
        for (eps, weights, loss, grad) in cases {
            let (l, g) = SoftmaxCrossEntropy(labelSmoothing: eps, classWeights: weights)(logits: logits, targets: targets)
            XCTAssertEqual(l, loss, accuracy: 1e-6, "ε=\(eps) weights=\(weights != nil)")
            assertClose(g.toArray(), grad, 1e-6)
        }
    }

    let grads: [[Float]] = [[0.1, -0.2, 0.3], [0.5, 0.5, -0.5], [-1.0, 0.25, 0.0]]

    func runOptimizer(_ make: (ParameterGroup) -> Optimizer) -> [Float] {
        let p = Parameter(Tensor(shape: [3], values: [1, -2, 0.5]))
        let opt = make(ParameterGroup(name: "all", parameters: [p], learningRate: 0, weightDecay: 0))
        for g in grads { g.withUnsafeBufferPointer { p.grad.data.update(from: $0.baseAddress!, count: 3) }; opt.step() }
        return p.value.toArray()
    }

    func testSGDMomentumAndNesterovMatchPyTorch() {
        let sgd = runOptimizer { g in g.learningRate = 0.1; g.weightDecay = 0.01; return SGD(groups: [g], momentum: 0.9) }
        assertClose(sgd, [0.9723828, -2.0546155, 0.5109614])
        let nesterov = runOptimizer { g in g.learningRate = 0.1; g.weightDecay = 0.01; return SGD(groups: [g], momentum: 0.9, nesterov: true) }
        assertClose(nesterov, [1.0123583, -2.098175, 0.5284407])
    }

    func testAdamWMatchesPyTorch() {
        let adamw = runOptimizer { g in g.learningRate = 0.01; g.weightDecay = 0.1; return AdamW(groups: [g]) }
        assertClose(adamw, [0.9810906, -1.9942352, 0.4937234])
    }

    func testPlainSGDStepByHand() {
        let p = Parameter(Tensor(shape: [2], values: [1, 2]))
        p.grad.data[0] = 0.5; p.grad.data[1] = -1
        SGD(groups: [ParameterGroup(name: "g", parameters: [p], learningRate: 0.1)]).step()
        assertClose(p.value.toArray(), [0.95, 2.1])
    }

    func testGroupsUseTheirOwnLearningRates() {
        let a = Parameter(Tensor(shape: [1], values: [1])), b = Parameter(Tensor(shape: [1], values: [1]))
        a.grad.data[0] = 1; b.grad.data[0] = 1
        let ga = ParameterGroup(name: "body", parameters: [a], learningRate: 0.001)
        let gb = ParameterGroup(name: "head", parameters: [b], learningRate: 0.1)
        let opt = SGD(groups: [ga, gb])
        Schedule.step(every: 1, gamma: 0.5).apply(to: opt.groups, step: 1, totalSteps: 10)
        XCTAssertEqual(ga.learningRate, 0.0005); XCTAssertEqual(gb.learningRate, 0.05)
        opt.step()
        XCTAssertEqual(a.value.data[0], 1 - 0.0005, accuracy: 1e-7)
        XCTAssertEqual(b.value.data[0], 1 - 0.05, accuracy: 1e-7)
    }

    func testFrozenParametersStayBitIdentical() {
        var gen = SeededGenerator(seed: 1)
        let net = Sequential([Conv2d(2, 3, kernel: 3, padding: .explicit(1, 1), generator: &gen), BatchNorm(3), ActivationLayer(.relu),
                              GlobalAvgPool(), Linear(3, 2, generator: &gen)])
        let frozen = net.layers[0], head = net.layers[4]
        frozen.setTrainable(false)
        let before = frozen.parameters.map { $0.value.toArray() }
        let headBefore = head.parameters.map { $0.value.toArray() }
        for opt in [AdamW(groups: [ParameterGroup(name: "all", parameters: net.parameters, learningRate: 0.1, weightDecay: 0.1)]) as Optimizer,
                    SGD(groups: [ParameterGroup(name: "all", parameters: net.parameters, learningRate: 0.1, weightDecay: 0.1)], momentum: 0.9)] {
            for _ in 0..<3 {
                net.zeroGrad()
                let y = net.forward(randomTensor([4, 2, 5, 5], seed: 2), mode: .training)
                let (_, g) = SoftmaxCrossEntropy()(logits: y, targets: [0, 1, 1, 0])
                _ = net.backward(g, needInputGradient: false)
                opt.step()
            }
        }
        XCTAssertEqual(frozen.parameters.map { $0.value.toArray() }, before, "frozen weights must not move, not even by weight decay")
        XCTAssertTrue(frozen.parameters.allSatisfy { $0.grad.toArray().allSatisfy { $0 == 0 } }, "frozen layers compute no gradient")
        XCTAssertNotEqual(head.parameters.map { $0.value.toArray() }, headBefore)
    }

    func testBackpropagationStopsAtFirstTrainableLayer() {
        final class Spy: Layer {
            var backwardCalls = 0
            var namedParameters: [(String, Parameter)] { [] }
            func forward(_ x: Tensor, mode: ForwardMode) -> Tensor { x }
            func backward(_ dy: Tensor, needInputGradient: Bool) -> Tensor? { backwardCalls += 1; return dy }
        }
        var gen = SeededGenerator(seed: 3)
        let spy = Spy(), frozen = Linear(4, 4, generator: &gen), head = Linear(4, 2, generator: &gen)
        frozen.setTrainable(false)
        let net = Sequential([spy, frozen, ActivationLayer(.relu), head])
        let y = net.forward(randomTensor([3, 4], seed: 4), mode: .training)
        XCTAssertNil(net.backward(y, needInputGradient: false))
        XCTAssertEqual(spy.backwardCalls, 0, "nothing before the first trainable layer is back-propagated")
        frozen.setTrainable(true)
        _ = net.forward(randomTensor([3, 4], seed: 4), mode: .training)
        _ = net.backward(y, needInputGradient: false)
        XCTAssertEqual(spy.backwardCalls, 0, "the first trainable layer itself needs no input gradient")
        _ = net.forward(randomTensor([3, 4], seed: 4), mode: .training)   // a backward consumes what its forward kept
        XCTAssertNotNil(net.backward(y, needInputGradient: true))
        XCTAssertEqual(spy.backwardCalls, 1)
    }

    func testSchedules() {
        XCTAssertEqual(Schedule.constant.factor(step: 57, totalSteps: 100), 1)
        XCTAssertEqual(Schedule.step(every: 10, gamma: 0.1).factor(step: 25, totalSteps: 100), 0.01, accuracy: 1e-9)
        let cosine = Schedule.cosine(warmupSteps: 10, minFactor: 0)
        XCTAssertEqual(cosine.factor(step: 0, totalSteps: 110), 0)
        XCTAssertEqual(cosine.factor(step: 5, totalSteps: 110), 0.5)
        XCTAssertEqual(cosine.factor(step: 10, totalSteps: 110), 1)
        XCTAssertEqual(cosine.factor(step: 60, totalSteps: 110), 0.5, accuracy: 1e-6)
        XCTAssertEqual(cosine.factor(step: 110, totalSteps: 110), 0, accuracy: 1e-6)
        XCTAssertEqual(Schedule.cosine(warmupSteps: 0, minFactor: 0.1).factor(step: 100, totalSteps: 100), 0.1, accuracy: 1e-6)
        // PyTorch OneCycleLR(max_lr=1, total_steps=100) at steps 0, 10, 29, 50, 99.
        for (s, expected) in [(0, 0.04), (10, 0.29516395), (29, 1.0), (50, 0.79389345), (99, 4e-06)] {
            XCTAssertEqual(Double(Schedule.defaultOneCycle.factor(step: s, totalSteps: 100)), expected, accuracy: 1e-6, "one-cycle step \(s)")
        }
    }

    func testBatchNormRunningStatisticsFollowPyTorchMomentum() {
        let bn = BatchNorm(1, momentum: 0.1)
        _ = bn.forward(Tensor(shape: [4, 1], values: [1, 2, 3, 6]), mode: .training)
        // batch mean 3, unbiased variance 14/3
        XCTAssertEqual(bn.runningMean.data[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(bn.runningVar.data[0], 0.9 + 0.1 * 14 / 3, accuracy: 1e-6)
        XCTAssertEqual(bn.batchesTracked.data[0], 1)
        let frozen = BatchNorm(1); frozen.usesRunningStatistics = true
        _ = frozen.forward(Tensor(shape: [4, 1], values: [1, 2, 3, 6]), mode: .training)
        XCTAssertEqual(frozen.runningMean.data[0], 0, "frozen BatchNorm keeps its statistics")
    }
}

final class FusionTests: XCTestCase {
    /// Inference folds conv → batch norm → activation into one convolution; it must compute what the three
    /// layers compute one by one, for every conv path and activation.
    func testFoldedConvBatchNormActivationMatchesUnfused() {
        var gen = SeededGenerator(seed: 11)
        let configs: [(Int, Int, Int, Int, Int, Activation, Int)] = [  // in, out, kernel, stride, groups, activation, side
            (3, 8, 3, 2, 1, .relu6, 9), (8, 8, 3, 1, 8, .relu6, 7), (8, 8, 5, 2, 8, .silu, 37), (4, 6, 1, 1, 1, .relu, 33), (6, 4, 1, 1, 1, .identity, 5)]
        for (cin, cout, k, s, groups, act, side) in configs {
            let conv = Conv2d(cin, cout, kernel: k, stride: s, padding: .same, groups: groups, bias: act == .silu, generator: &gen)
            let bn = BatchNorm(cout, eps: 1e-3)
            for c in 0..<cout {
                bn.weight.value.data[c] = 0.5 + gen.nextFloat(); bn.bias.value.data[c] = gen.nextFloat() - 0.5
                bn.runningMean.data[c] = gen.nextFloat() - 0.5; bn.runningVar.data[c] = 0.2 + gen.nextFloat()
            }
            let layers: [Layer] = act == .identity ? [conv, bn] : [conv, bn, ActivationLayer(act)]
            let x = randomTensor([2, cin, side, side], seed: 3)
            let fused = Sequential(layers).forward(x, mode: .inference).toArray()
            let oneByOne = layers.reduce(x) { $1.forward($0, mode: ForwardMode(training: false, keepForBackward: true)) }.toArray()
            XCTAssertEqual(fused.count, oneByOne.count)
            for (a, b) in zip(fused, oneByOne) { XCTAssertEqual(a, b, accuracy: 2e-5, "\(k)x\(k)/\(s) groups \(groups) \(act)") }
        }
    }
}

final class SavedTensorTests: XCTestCase {
    /// Each layer drops what it kept for backward once its backward has run (as PyTorch frees saved tensors),
    /// so the memory returns to the pool for the next step's gradients and activations.
    func testBackwardReleasesEverythingForwardKept() {
        func makeNet() -> Sequential {
            var gen = SeededGenerator(seed: 9)
            let block = Residual(Sequential([Conv2d(4, 8, kernel: 3, padding: .explicit(1, 1), generator: &gen), BatchNorm(8),
                                             ActivationLayer(.relu), Conv2d(8, 4, kernel: 1, generator: &gen), BatchNorm(4),
                                             ActivationLayer(.silu),
                                             SqueezeExcitation(channels: 4, squeezed: 2, activation: .relu, names: ("r", "e"), generator: &gen)]))
            let attention = MultiHeadSelfAttention(dim: 4, heads: 2, generator: &gen)
            return Sequential([block, ActivationLayer(.relu), MaxPool2d(kernel: 2), Flatten(), Dropout(0.5, seed: 3),
                               Linear(4 * 3 * 3, 12, generator: &gen), ActivationLayer(.gelu), Linear(12, 8, generator: &gen),
                               Reshape([2, 4]), attention, LayerNorm(4), Flatten(), Softmax()])
        }
        let x = randomTensor([2, 4, 6, 6], seed: 10)
        func step(_ net: Sequential) { _ = net.backward(net.forward(x, mode: .training), needInputGradient: true) }
        step(makeNet())   // the shared scratch buffers a step takes exist from now on
        let net = makeNet()
        let before = BufferPool.shared.liveBytes
        var kept = 0
        do {
            let y = net.forward(x, mode: .training)
            kept = BufferPool.shared.liveBytes - before
            _ = net.backward(y, needInputGradient: true)
        }
        XCTAssertGreaterThan(kept, 0, "a training forward keeps its activations")
        XCTAssertEqual(BufferPool.shared.liveBytes, before, "after backward nothing of the step is still held")
    }
}
