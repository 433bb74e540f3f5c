import XCTest
import Kernels
import Layers

/// Every layer's backward against central finite differences (tolerance explained in GradientCheck.swift).
final class LayerGradientTests: XCTestCase {
    var gen = SeededGenerator(seed: 5)

    func testConv2dVariants() {
        let configs: [(cin: Int, cout: Int, k: Int, s: Int, groups: Int, pad: Padding, hw: (Int, Int))] = [
            (3, 4, 3, 1, 1, .explicit(1, 1), (5, 6)),
            (4, 6, 3, 2, 2, .same, (7, 6)),
            (4, 4, 3, 2, 4, .same, (7, 7)),
            (3, 5, 1, 1, 1, .explicit(0, 0), (4, 3)),
        ]
        for c in configs {
            let conv = Conv2d(c.cin, c.cout, kernel: c.k, stride: c.s, padding: c.pad, groups: c.groups, generator: &gen)
            checkGradients(conv, input: randomTensor([2, c.cin, c.hw.0, c.hw.1], seed: 1))
        }
        let dilated = Conv2d(2, 3, kernel: 3, padding: .explicit(2, 2), dilation: 2, generator: &gen)
        checkGradients(dilated, input: randomTensor([1, 2, 6, 6], seed: 2))
    }

    func testLinearOnMatrixAndTokens() {
        checkGradients(Linear(5, 3, generator: &gen), input: randomTensor([4, 5], seed: 3))
        checkGradients(Linear(4, 6, bias: false, generator: &gen), input: randomTensor([2, 3, 4], seed: 4))
    }

    func testBatchNormTrainingAndInference() {
        let bn = BatchNorm(3)
        for c in 0..<3 { bn.weight.value.data[c] = 1 + 0.3 * Float(c); bn.bias.value.data[c] = -0.2 * Float(c) }
        checkGradients(bn, input: randomTensor([4, 3, 2, 3], seed: 5), training: true)
        bn.runningMean.fill(0.1); bn.runningVar.fill(0.7)
        checkGradients(bn, input: randomTensor([2, 3, 2, 2], seed: 6), training: false)
        let frozenStats = BatchNorm(2); frozenStats.usesRunningStatistics = true
        checkGradients(frozenStats, input: randomTensor([3, 2], seed: 7), training: true)
        checkGradients(BatchNorm(4), input: randomTensor([5, 4], seed: 8), training: true)
    }

    func testLayerNorm() {
        let ln = LayerNorm(6)
        for i in 0..<6 { ln.weight.value.data[i] = 0.5 + 0.1 * Float(i); ln.bias.value.data[i] = 0.05 * Float(i) }
        checkGradients(ln, input: randomTensor([2, 3, 6], seed: 9))
    }

    func testActivations() {
        for f in Activation.allCases {
            // Keep inputs off the kinks at 0, ±3 and 6.
            let x = spreadTensor([2, 3, 4], seed: 10, gap: 0.37)
            checkGradients(ActivationLayer(f), input: x)
        }
    }

    func testPooling() {
        checkGradients(MaxPool2d(kernel: 3, stride: 2, padding: .explicit(1, 1)), input: spreadTensor([2, 2, 7, 6], seed: 11))
        checkGradients(MaxPool2d(kernel: 2), input: spreadTensor([1, 3, 4, 4], seed: 12))
        checkGradients(AvgPool2d(kernel: 3, stride: 2, padding: .explicit(1, 1)), input: randomTensor([2, 2, 5, 6], seed: 13))
        checkGradients(AvgPool2d(kernel: 3, stride: 1, padding: .same, countIncludePad: false), input: randomTensor([1, 2, 4, 5], seed: 14))
        checkGradients(GlobalAvgPool(), input: randomTensor([3, 4, 2, 3], seed: 15))
    }

    func testDropoutWithFixedMask() {
        let d = Dropout(0.4, seed: 3)
        checkGradients(d, input: randomTensor([3, 8], seed: 16), beforeForward: { d.generator = SeededGenerator(seed: 3) })
        let y = d.forward(Tensor(shape: [1000], repeating: 1), mode: .training).toArray()
        let kept = y.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 1000, 0.6, accuracy: 0.06)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.6) < 1e-6 }, "survivors are scaled by 1/(1-p)")
        XCTAssertEqual(d.forward(Tensor(shape: [5], repeating: 2), mode: .inference).toArray(), [2, 2, 2, 2, 2])
        // In a frozen group it passes through in training too, and draws nothing.
        d.passesThrough = true
        let before = d.generator
        XCTAssertEqual(d.forward(Tensor(shape: [5], repeating: 2), mode: .training).toArray(), [2, 2, 2, 2, 2])
        XCTAssertEqual(d.generator, before)
        let p = DropPath(0.9, seed: 1)
        p.passesThrough = true
        XCTAssertEqual(p.forward(Tensor(shape: [4, 3], repeating: 1), mode: .training).toArray(), [Float](repeating: 1, count: 12))
    }

    func testSoftmaxAttentionAndShapeLayers() {
        checkGradients(Softmax(), input: randomTensor([3, 5], seed: 17))
        let attention = MultiHeadSelfAttention(dim: 8, heads: 2, generator: &gen)
        checkGradients(attention, input: randomTensor([2, 5, 8], seed: 18))
        // An odd number of (batch, head) pairs: the per-core split of the heads must not share scratch.
        for _ in 0..<5 { checkGradients(MultiHeadSelfAttention(dim: 6, heads: 3, generator: &gen), input: randomTensor([1, 4, 6], seed: 25)) }
        checkGradients(Sequential([Reshape([3, 4]), Permute([0, 2, 1]), Flatten()]), input: randomTensor([2, 12], seed: 19))
    }

    func testContainers() {
        let block = Residual(Sequential([Conv2d(3, 3, kernel: 3, padding: .explicit(1, 1), generator: &gen), BatchNorm(3),
                                         ActivationLayer(.silu)]),
                             shortcut: Conv2d(3, 3, kernel: 1, generator: &gen))
        checkGradients(block, input: randomTensor([2, 3, 4, 4], seed: 20))
        checkGradients(Residual(Linear(4, 4, generator: &gen)), input: randomTensor([3, 4], seed: 21))
        let branches = Concat([("a", Conv2d(2, 3, kernel: 1, generator: &gen)), ("b", Conv2d(2, 1, kernel: 3, padding: .explicit(1, 1), generator: &gen))])
        checkGradients(branches, input: randomTensor([2, 2, 3, 3], seed: 22))
        let net = Sequential([Conv2d(2, 4, kernel: 3, stride: 2, padding: .same, generator: &gen), BatchNorm(4), ActivationLayer(.gelu),
                              GlobalAvgPool(), Linear(4, 3, generator: &gen)])
        checkGradients(net, input: randomTensor([3, 2, 6, 6], seed: 23))
    }

    /// Sequential lets a linear after an activation keep the activation's input and recompute its own input
    /// in backward (a ViT MLP's GELU output is never kept): bit-identical to the layers run one by one, and
    /// right by finite differences.
    func testLinearAfterActivationRecomputesItsInput() {
        for function in [Activation.gelu, .silu, .relu] {
            let fc1 = Linear(5, 7, generator: &gen), act = ActivationLayer(function), fc2 = Linear(7, 3, generator: &gen)
            let net = Sequential([fc1, act, fc2])
            let x = randomTensor([4, 2, 5], seed: 31)
            let y = net.forward(x, mode: .training)
            let dy = randomTensor(y.shape, seed: 32)
            let dx = net.backward(dy, needInputGradient: true)!.toArray()
            let grads = net.parameters.map { $0.grad.toArray() }
            for p in net.parameters { p.zeroGrad() }
            let y2 = fc2.forward(act.forward(fc1.forward(x, mode: .training), mode: .training), mode: .training)
            XCTAssertEqual(y.toArray(), y2.toArray(), "\(function) forward")
            let dx2 = fc1.backward(act.backward(fc2.backward(dy, needInputGradient: true)!, needInputGradient: true)!, needInputGradient: true)!
            XCTAssertEqual(dx, dx2.toArray(), "\(function) dx")
            XCTAssertEqual(grads, net.parameters.map { $0.grad.toArray() }, "\(function) parameter gradients")
            if function != .relu { checkGradients(net, input: x) }   // a finite difference across ReLU's kink would not be right
        }
    }

    /// Sequential runs batch norm → ReLU / ReLU6 as one pass (the clamp applied as batch norm writes, the
    /// activation's backward reading its output): forward, dx and every parameter gradient are bit-identical
    /// to the three layers run one after the other (each checked against finite differences on its own;
    /// a finite difference across the kinks that batch norm centres values on would not be).
    func testBatchNormFusedWithClampingActivation() {
        for function in [Activation.relu, .relu6] {
            let conv = Conv2d(2, 3, kernel: 3, padding: .explicit(1, 1), generator: &gen), bn = BatchNorm(3), act = ActivationLayer(function)
            bn.weight.value.data[1] = 4   // spreads channel 1 past 6, so ReLU6's upper kink is exercised
            let x = randomTensor([3, 2, 5, 5], seed: 25, lo: -3, hi: 3)
            let fused = Sequential([conv, bn, act])
            let y = fused.forward(x, mode: .training)
            XCTAssertTrue(y.toArray().contains(0) && (function == .relu || y.toArray().contains(6)), "inputs reach the kinks")
            let dy = randomTensor(y.shape, seed: 26)
            let dx = fused.backward(dy, needInputGradient: true)!.toArray()
            let grads = [conv.weight.grad, bn.weight.grad, bn.bias.grad].map { $0.toArray() }
            for p in fused.parameters { p.zeroGrad() }
            let h = bn.forward(conv.forward(x, mode: .training), mode: .training)
            XCTAssertEqual(y.toArray(), act.forward(h, mode: .training).toArray(), "\(function) forward")
            let dx2 = conv.backward(bn.backward(act.backward(dy, needInputGradient: true)!, needInputGradient: true)!, needInputGradient: true)!
            XCTAssertEqual(dx, dx2.toArray(), "\(function) dx")
            XCTAssertEqual(grads, [conv.weight.grad, bn.weight.grad, bn.bias.grad].map { $0.toArray() }, "\(function) parameter gradients")
        }
        // A residual sum → ReLU likewise (ResNet's blocks).
        let body = Conv2d(3, 3, kernel: 3, padding: .explicit(1, 1), generator: &gen), block = Residual(body), relu = ActivationLayer(.relu)
        let x = randomTensor([2, 3, 4, 4], seed: 27)
        let y = Sequential([block, relu]).forward(x, mode: .training)
        XCTAssertTrue(y.toArray().contains(0))
        let dy = randomTensor(y.shape, seed: 28)
        let dx = Sequential([block, relu]).backward(dy, needInputGradient: true)!.toArray(), dw = body.weight.grad.toArray()
        body.weight.zeroGrad(); body.bias?.zeroGrad()
        XCTAssertEqual(y.toArray(), relu.forward(block.forward(x, mode: .training), mode: .training).toArray(), "residual forward")
        XCTAssertEqual(dx, block.backward(relu.backward(dy, needInputGradient: true)!, needInputGradient: true)!.toArray(), "residual dx")
        XCTAssertEqual(dw, body.weight.grad.toArray(), "residual dW")
    }

    func testCrossEntropyGradientMatchesFiniteDifferences() {
        let loss = SoftmaxCrossEntropy(labelSmoothing: 0.15, classWeights: [1, 2, 0.5, 1.5])
        let z = randomTensor([5, 4], seed: 24, lo: -2, hi: 2), targets = [0, 3, 2, 1, 1]
        let g = loss(logits: z, targets: targets).gradient.toArray()
        for i in 0..<z.count {
            let s = z.data[i]
            z.data[i] = s + 1e-2; let up = Double(loss(logits: z, targets: targets).loss)
            z.data[i] = s - 1e-2; let down = Double(loss(logits: z, targets: targets).loss)
            z.data[i] = s
            XCTAssertEqual(Double(g[i]), (up - down) / 2e-2, accuracy: 1e-3)
        }
    }
}

/// The layers the pretrained backbones add.
final class BackboneLayerGradientTests: XCTestCase {
    var gen = SeededGenerator(seed: 8)

    func testDropPathWithFixedDraws() {
        let d = DropPath(0.5, seed: 4)
        checkGradients(d, input: randomTensor([6, 2, 3], seed: 1), beforeForward: { d.generator = SeededGenerator(seed: 4) })
        let y = d.forward(Tensor(shape: [400, 3], repeating: 1), mode: .training).toArray()
        let rows = stride(from: 0, to: y.count, by: 3).map { Array(y[$0..<$0 + 3]) }
        XCTAssertTrue(rows.allSatisfy { $0 == [0, 0, 0] || $0 == [2, 2, 2] }, "whole samples are dropped or scaled by 1/(1-p)")
        XCTAssertEqual(Double(rows.filter { $0[0] == 0 }.count) / 400, 0.5, accuracy: 0.08)
        XCTAssertEqual(d.forward(Tensor(shape: [2, 2], repeating: 3), mode: .inference).toArray(), [3, 3, 3, 3])
    }

    func testSqueezeExcitation() {
        let se = SqueezeExcitation(channels: 4, squeezed: 2, activation: .silu, names: ("fc1", "fc2"), generator: &gen)
        checkGradients(se, input: randomTensor([2, 4, 3, 3], seed: 2))
        XCTAssertEqual(se.namedParameters.map(\.0), ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"])
    }

    func testViTTokenLayers() {
        let tokens = ClassTokenAndPosition(tokens: 4, dim: 3, names: ("cls_token", "pos_embed"), generator: &gen)
        tokens.classToken.value.data.update(from: [0.3, -0.2, 0.1], count: 3)
        checkGradients(Sequential([PatchTokens(), tokens, SelectToken(1)]), input: randomTensor([2, 3, 2, 2], seed: 3))
        checkGradients(Sequential([PatchTokens(), tokens, SelectToken(0)]), input: randomTensor([2, 3, 2, 2], seed: 4))
    }

    func testAdaptiveAveragePoolingMatchesPyTorchBins() {
        checkGradients(AdaptiveAvgPool2d(3), input: randomTensor([2, 2, 5, 7], seed: 5))
        // 5 → 3 bins: [0,2), [1,4), [3,5)
        let y = AdaptiveAvgPool2d(3).forward(Tensor(shape: [1, 1, 5, 5], values: (0..<25).map { Float($0 / 5 + 1) }), mode: .inference)
        XCTAssertEqual((0..<3).map { y[0, 0, $0, 0] }, [1.5, 3, 4.5])
    }
}

/// Inference fusions in `Sequential` give what the layers give one by one.
final class InferenceFusionTests: XCTestCase {
    /// Squeeze-excitation → conv → batch norm → activation hands the gate to the folded convolution, which
    /// scales its weights per image instead of the input: the same outputs as the layers apart (to rounding).
    func testSqueezeExcitationGateFoldsIntoTheNextConvolution() {
        var gen = SeededGenerator(seed: 11)
        for (channels, hw, kernel) in [(12, 9, 1), (8, 40, 1), (6, 5, 3)] {
            let se = SqueezeExcitation(channels: channels, squeezed: 3, activation: .silu, names: ("fc1", "fc2"), generator: &gen)
            let conv = Conv2d(channels, 7, kernel: kernel, padding: .same, bias: false, generator: &gen)
            let bn = BatchNorm(7)
            for c in 0..<7 { bn.runningMean.data[c] = Float(c) * 0.1 - 0.3; bn.runningVar.data[c] = 0.5 + Float(c) * 0.2 }
            let act = ActivationLayer(.silu)
            let x = Tensor.randomUniform([3, channels, hw, hw], -1, 1, generator: &gen)
            let fused = Sequential([se, conv, bn, act]).forward(x, mode: .inference)
            let apart = act.forward(bn.forward(conv.forward(se.forward(x, mode: .inference), mode: .inference), mode: .inference), mode: .inference)
            XCTAssertEqual(fused.shape, apart.shape)
            var worst: Float = 0
            for q in 0..<fused.count { worst = max(worst, abs(fused.data[q] - apart.data[q])) }
            XCTAssertLessThan(worst, 1e-5, "\(channels) channels @\(hw), \(kernel)x\(kernel)")
        }
    }
}
