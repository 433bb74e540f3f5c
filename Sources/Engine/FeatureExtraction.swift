import Foundation
import Backbones
import ImageData
import Kernels
import Layers

/// Computes what a frozen part of a backbone makes of a list of images — pooled features, or the
/// activations at a group boundary — decoding and preprocessing each batch on all cores, in inference mode
/// (batch norm folded into the convolutions).
public enum FeatureExtraction {
    /// How an image becomes the backbone's input, as a string for cache keys and run records.
    public static func describe(resize: Int, crop: Int, mean: [Float], std: [Float]) -> String {
        "resize-shorter=\(resize) center-crop=\(crop) mean=\(mean) std=\(std) gray=replicate"
    }

    /// Pooled features [N, D] of `paths`, in order. `progress` receives the number of images done; if it
    /// throws, the pass ends there with that error.
    public static func features(of paths: [String], backbone: Backbone, resize: Int, crop: Int, batchSize: Int = 32,
                                progress: (Int) throws -> Void = { _ in }) throws -> Tensor {
        try activations(of: paths, through: backbone.features, preprocessing: backbone.spec.preprocessing, resize: resize, crop: crop,
                        batchSize: batchSize, progress: progress)
    }

    /// `prefix`'s output for every image, stacked: [N, …].
    public static func activations(of paths: [String], through prefix: Sequential, preprocessing p: Preprocessing, resize: Int, crop: Int,
                                   batchSize: Int = 32, progress: (Int) throws -> Void = { _ in }) throws -> Tensor {
        var out: Tensor?
        var start = 0
        while start < paths.count {
            let end = min(start + batchSize, paths.count)
            let x = try ImageBatch.load(Array(paths[start..<end]), resizeShorterSide: resize, crop: crop, mean: p.mean, std: p.std)
            let f = prefix.forward(x, mode: .inference).contiguous()
            let per = f.count / (end - start)
            if out == nil { out = Tensor(uninitialized: [paths.count] + f.shape.dropFirst()) }
            (out!.data + start * per).update(from: f.data, count: f.count)
            start = end
            try progress(end)
        }
        return out ?? Tensor(uninitialized: [0])
    }
}
