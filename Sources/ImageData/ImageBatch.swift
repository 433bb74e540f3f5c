import Kernels

/// A batch of PNG files as the network's input [N, 3, crop, crop]: decoded and preprocessed on all cores
/// (see `Preprocess.evaluation`), optionally flipped per image. Errors name the file.
public enum ImageBatch {
    public static func load(_ paths: [String], resizeShorterSide resize: Int, crop: Int, mean: [Float], std: [Float],
                            flips: [(horizontal: Bool, vertical: Bool)]? = nil) throws -> Tensor {
        let plane = 3 * crop * crop
        let x = Tensor(uninitialized: [paths.count, 3, crop, crop])
        try Parallel.forEachIndex(paths.count) { i in
            var v = Preprocess.evaluation(try PNGCodec.decode(file: paths[i]), resizeShorterSide: resize, crop: crop, mean: mean, std: std)
            if let (h, vf) = flips?[i], h || vf {
                let src = v
                for c in 0..<3 { for y in 0..<crop { for xx in 0..<crop {
                    v[(c * crop + y) * crop + xx] = src[(c * crop + (vf ? crop - 1 - y : y)) * crop + (h ? crop - 1 - xx : xx)]
                } } }
            }
            v.withUnsafeBufferPointer { (x.data + i * plane).update(from: $0.baseAddress!, count: plane) }
        }
        return x
    }
}
