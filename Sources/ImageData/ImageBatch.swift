import Kernels

/// A batch of PNG files as the network's input [N, 3, crop, crop]: decoded and preprocessed on all cores
/// (see `Preprocess.evaluation`). With `augmentation` and one seed per image, each image is augmented
/// with its own generator, so the batch is the same whichever thread decodes which image. Errors name the file.
public enum ImageBatch {
    public static func load(_ paths: [String], resizeShorterSide resize: Int, crop: Int, mean: [Float], std: [Float],
                            augmentation: Augmentation? = nil, seeds: [UInt64]? = nil) throws -> Tensor {
        require(augmentation == nil || seeds?.count == paths.count, "augmentation needs one seed per image")
        let plane = crop * crop
        let x = Tensor(uninitialized: [paths.count, 3, crop, crop])
        try Parallel.forEachIndex(paths.count) { i in
            let image = try PNGCodec.decode(file: paths[i])
            try Preprocess.checkResizable(image, shorterSide: resize, file: paths[i])
            var v: [Float]
            if let augmentation, let seeds {
                var g = SeededGenerator(seed: seeds[i])
                v = augmentation.apply(image, resizeShorterSide: resize, size: crop, generator: &g)
            } else {
                v = Preprocess.resizeCentreCrop(image, resizeShorterSide: resize, crop: crop)
            }
            Preprocess.normalize(&v, plane: plane, mean: mean, std: std)
            v.withUnsafeBufferPointer { (x.data + i * 3 * plane).update(from: $0.baseAddress!, count: 3 * plane) }
        }
        return x
    }
}
