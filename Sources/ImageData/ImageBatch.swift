import Kernels

/// A batch of PNG files as the network's input [N, 3, crop, crop]: decoded and preprocessed on all cores
/// (see `Preprocess.evaluation`). With `augmentation` and one seed per image, each image is augmented
/// with its own generator, so the batch is the same whichever thread decodes which image. Errors name the file.
/// With a `cache` (and no random resized crop) each image's evaluation crop comes from memory after its
/// first decode; the batch is bit-identical either way.
public enum ImageBatch {
    public static func load(_ paths: [String], resizeShorterSide resize: Int, crop: Int, mean: [Float], std: [Float],
                            augmentation: Augmentation? = nil, seeds: [UInt64]? = nil,
                            cache: ResizedImageCache? = nil) throws -> Tensor {
        require(augmentation == nil || seeds?.count == paths.count, "augmentation needs one seed per image")
        require(cache.map { $0.resize == resize && $0.crop == crop } ?? true, "the cache holds another resize or crop")
        require(mean.count == 3 && std.count == 3, "mean and std need three channels")
        let plane = crop * crop
        let x = Tensor(uninitialized: [paths.count, 3, crop, crop])
        // A random resized crop starts from the decoded image, not from the evaluation crop.
        let cache = augmentation?.cropScale == nil ? cache : nil
        try Parallel.forEachIndex(paths.count) { i in
            let out = x.data + i * 3 * plane
            if let cache {
                let e = try cache.entry(paths[i])
                guard let augmentation, let seeds else {
                    return copyNormalized(e, into: out, size: crop, flips: (false, false), mean: mean, std: std)
                }
                var g = SeededGenerator(seed: seeds[i])
                if augmentation.isFlipsOnly {
                    return copyNormalized(e, into: out, size: crop, flips: augmentation.drawFlips(&g), mean: mean, std: std)
                }
                var v = augmentation.applyAfterCrop(e.threeChannels, size: crop, generator: &g)
                Preprocess.normalize(&v, plane: plane, mean: mean, std: std)
                return v.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: 3 * plane) }
            }
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
            v.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: 3 * plane) }
        }
        return x
    }

    /// A cached crop, flipped as asked, normalised as `Preprocess.normalize` does, written straight into the
    /// batch (no per-image buffer).
    static func copyNormalized(_ e: ResizedImageCache.Entry, into out: UnsafeMutablePointer<Float>, size: Int,
                               flips: (horizontal: Bool, vertical: Bool), mean: [Float], std: [Float]) {
        e.planes.withUnsafeBufferPointer { planes in
            for c in 0..<3 {
                let (scale, shift) = Preprocess.normalization(channel: c, mean: mean, std: std)
                let src = planes.baseAddress! + e.offset(ofChannel: c), dst = out + c * size * size
                for y in 0..<size {
                    let s = src + (flips.vertical ? size - 1 - y : y) * size, d = dst + y * size
                    if flips.horizontal {
                        for q in 0..<size { d[q] = s[size - 1 - q] * scale - shift }
                    } else {
                        for q in 0..<size { d[q] = s[q] * scale - shift }
                    }
                }
            }
        }
    }
}
