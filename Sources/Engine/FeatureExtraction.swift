import Foundation
import Backbones
import ImageData
import Kernels
import Layers

/// Computes a frozen backbone's pooled features for a list of images, decoding and preprocessing each
/// batch on all cores, with the backbone in inference mode (batch norm folded into the convolutions).
public enum FeatureExtraction {
    /// How an image becomes the backbone's input, as a string for cache keys and run records.
    public static func describe(resize: Int, crop: Int, mean: [Float], std: [Float]) -> String {
        "resize-shorter=\(resize) center-crop=\(crop) mean=\(mean) std=\(std) gray=replicate"
    }

    /// Features [N, D] of `paths`, in order. `progress` receives the number of images done; if it throws,
    /// the pass ends there with that error.
    public static func features(of paths: [String], backbone: Backbone, resize: Int, crop: Int, batchSize: Int = 32,
                                progress: (Int) throws -> Void = { _ in }) throws -> Tensor {
        let p = backbone.spec.preprocessing
        let dim = backbone.spec.featureDimension
        let out = Tensor(uninitialized: [paths.count, dim])
        var start = 0
        while start < paths.count {
            let end = min(start + batchSize, paths.count)
            let x = try ImageBatch.load(Array(paths[start..<end]), resizeShorterSide: resize, crop: crop, mean: p.mean, std: p.std)
            let f = backbone.features.forward(x, mode: .inference)
            (out.data + start * dim).update(from: f.data, count: (end - start) * dim)
            start = end
            try progress(end)
        }
        return out
    }
}
