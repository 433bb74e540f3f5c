import XCTest
import Kernels
import Layers

/// Central finite differences against a layer's backward.
///
/// The scalar probed is L = Σ y ⊙ r for a fixed random r, accumulated in double. With float32 forwards,
/// the difference quotient carries truncation error O(ε²·f‴) and rounding error about 1e-7·|L|/ε; with
/// ε = 1e-2 both stay near 1e-4 for the unit-scale inputs used here, so a coordinate passes when
/// |numeric − analytic| ≤ 2e-3 + 2e-2·max(|numeric|, |analytic|). A wrong backward (a missing term, a
/// transposed index, a sign) misses that by orders of magnitude.
func checkGradients(_ layer: Layer, input: Tensor, training: Bool = true, eps: Float = 1e-2, samples: Int = 24,
                    beforeForward: () -> Void = {}, file: StaticString = #filePath, line: UInt = #line) {
    var gen = SeededGenerator(seed: 99)
    beforeForward()
    let y = layer.forward(input, mode: ForwardMode(training: training, keepForBackward: true, inputGradient: true))
    let r = Tensor.randomUniform(y.shape, -1, 1, generator: &gen)
    layer.zeroGrad()
    guard let dx = layer.backward(r, needInputGradient: true) else { return XCTFail("no input gradient", file: file, line: line) }
    let dxValues = dx.toArray()
    let paramGrads = layer.namedParameters.map { ($0.0, $0.1, $0.1.grad.toArray()) }

    func loss() -> Double {
        beforeForward()
        let out = layer.forward(input, mode: ForwardMode(training: training, keepForBackward: false)).toArray()
        let rv = r.toArray()
        return zip(out, rv).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    func probe(_ name: String, _ values: UnsafeMutablePointer<Float>, count: Int, analytic: [Float]) {
        var picks = SeededGenerator(seed: UInt64(count))
        let indices = count <= samples ? Array(0..<count) : (0..<samples).map { _ in Int(picks.next() % UInt64(count)) }
        for i in indices {
            let saved = values[i]
            values[i] = saved + eps; let up = loss()
            values[i] = saved - eps; let down = loss()
            values[i] = saved
            let numeric = (up - down) / Double(2 * eps), a = Double(analytic[i])
            let tolerance = 2e-3 + 2e-2 * max(abs(numeric), abs(a))
            if abs(numeric - a) > tolerance {
                XCTFail("\(type(of: layer)) d\(name)[\(i)]: analytic \(a), numeric \(numeric)", file: file, line: line)
                return
            }
        }
    }

    let x = input.contiguous()
    precondition(x === input, "gradient checks need a contiguous input")
    probe("x", x.data, count: x.count, analytic: dxValues)
    for (name, p, grad) in paramGrads where p.trainable {
        probe(name, p.value.data, count: p.value.count, analytic: grad)
    }
}

func randomTensor(_ shape: [Int], seed: UInt64, lo: Float = -1, hi: Float = 1) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor.randomUniform(shape, lo, hi, generator: &g)
}

/// Values spread at least `gap` apart (so that max-pooling and ReLU kinks sit far from ±ε).
func spreadTensor(_ shape: [Int], seed: UInt64, gap: Float = 0.05) -> Tensor {
    let n = shape.reduce(1, *)
    var g = SeededGenerator(seed: seed)
    var order = Array(0..<n)
    order.shuffle(using: &g)
    return Tensor(shape: shape, values: order.map { (Float($0) - Float(n) / 2 + 0.5) * gap })
}
