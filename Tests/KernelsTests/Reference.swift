import Kernels

/// Naive double-precision reference implementations, written for clarity only.
enum Reference {
    static func conv2d(_ g: ConvGeometry, x: [Float], w: [Float], bias: [Float]?) -> [Double] {
        var y = [Double](repeating: 0, count: g.batch * g.outChannels * g.outH * g.outW)
        let cinG = g.inChannels / g.groups, coutG = g.outChannels / g.groups
        for n in 0..<g.batch { for co in 0..<g.outChannels {
            let grp = co / coutG
            for oh in 0..<g.outH { for ow in 0..<g.outW {
                var s = Double(bias?[co] ?? 0)
                for ci in 0..<cinG { for i in 0..<g.kernelH { for j in 0..<g.kernelW {
                    let ih = oh * g.strideH - g.padTop + i * g.dilationH, iw = ow * g.strideW - g.padLeft + j * g.dilationW
                    if ih < 0 || ih >= g.height || iw < 0 || iw >= g.width { continue }
                    let c = grp * cinG + ci
                    s += Double(x[((n * g.inChannels + c) * g.height + ih) * g.width + iw]) *
                         Double(w[((co * cinG + ci) * g.kernelH + i) * g.kernelW + j])
                } } }
                y[((n * g.outChannels + co) * g.outH + oh) * g.outW + ow] = s
            } }
        } }
        return y
    }

    /// (dx, dw) of L = Σ y·dy.
    static func conv2dBackward(_ g: ConvGeometry, x: [Float], w: [Float], dy: [Float]) -> ([Double], [Double]) {
        var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
        let cinG = g.inChannels / g.groups, coutG = g.outChannels / g.groups
        for n in 0..<g.batch { for co in 0..<g.outChannels {
            let grp = co / coutG
            for oh in 0..<g.outH { for ow in 0..<g.outW {
                let d = Double(dy[((n * g.outChannels + co) * g.outH + oh) * g.outW + ow])
                for ci in 0..<cinG { for i in 0..<g.kernelH { for j in 0..<g.kernelW {
                    let ih = oh * g.strideH - g.padTop + i * g.dilationH, iw = ow * g.strideW - g.padLeft + j * g.dilationW
                    if ih < 0 || ih >= g.height || iw < 0 || iw >= g.width { continue }
                    let xi = ((n * g.inChannels + grp * cinG + ci) * g.height + ih) * g.width + iw
                    let wi = ((co * cinG + ci) * g.kernelH + i) * g.kernelW + j
                    dx[xi] += d * Double(w[wi]); dw[wi] += d * Double(x[xi])
                } } }
            } }
        } }
        return (dx, dw)
    }

    static func pool(_ g: ConvGeometry, x: [Float], max isMax: Bool, countIncludePad: Bool) -> [Double] {
        var y = [Double]()
        for p in 0..<(g.batch * g.inChannels) { for oh in 0..<g.outH { for ow in 0..<g.outW {
            var best = -Double.infinity, s = 0.0, n = 0
            for i in 0..<g.kernelH { for j in 0..<g.kernelW {
                let ih = oh * g.strideH - g.padTop + i, iw = ow * g.strideW - g.padLeft + j
                if ih < 0 || ih >= g.height || iw < 0 || iw >= g.width { continue }
                let v = Double(x[(p * g.height + ih) * g.width + iw]); best = max(best, v); s += v; n += 1
            } }
            y.append(isMax ? best : s / Double(countIncludePad ? g.kernelH * g.kernelW : n))
        } } }
        return y
    }
}

func randomArray(_ n: Int, seed: UInt64, lo: Float = -1, hi: Float = 1) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<n).map { _ in lo + (hi - lo) * g.nextFloat() }
}

func maxAbsDiff(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0
}
