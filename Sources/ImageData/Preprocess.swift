/// The evaluation transform of torchvision's classification presets, on 8-bit images:
/// resize the shorter side (antialiased bilinear), centre-crop, scale to 0…1, normalise per channel.
public enum Preprocess {
    /// [3, crop, crop] floats, channels RGB. Gray images are replicated into three channels.
    public static func evaluation(_ image: Image, resizeShorterSide resize: Int, crop: Int, mean: [Float], std: [Float]) -> [Float] {
        var v = resizeCentreCrop(image, resizeShorterSide: resize, crop: crop)
        normalize(&v, plane: crop * crop, mean: mean, std: std)
        return v
    }

    /// The most pixels an image may have once its shorter side is resized: a 1×16384 image resized to 256 on
    /// its short side would be 256×4194304 (12 GiB of floats), so such extreme aspect ratios are refused.
    public static let maxResizedPixels = 16 << 20

    /// torchvision's size after resizing the shorter side to `resize`: the longer one is int(resize · long / short).
    public static func resizedSize(width: Int, height: Int, shorterSide resize: Int) -> (width: Int, height: Int) {
        width <= height ? (resize, Int(Double(resize) * Double(height) / Double(width)))
                        : (Int(Double(resize) * Double(width) / Double(height)), resize)
    }

    /// Refuses an image whose resized size would exceed `maxResizedPixels`, naming the file.
    public static func checkResizable(_ image: Image, shorterSide resize: Int, file: String) throws {
        let (w, h) = resizedSize(width: image.width, height: image.height, shorterSide: resize)
        guard w * h <= maxResizedPixels else {
            throw ImageError(file: file, reason: "a \(image.width)×\(image.height) image would be resized to \(w)×\(h); "
                             + "tlab refuses aspect ratios that make more than \(maxResizedPixels) pixels")
        }
    }

    /// Resize the shorter side to `resize`, centre-crop `crop`×`crop`: [3, crop, crop] in 0…255.
    public static func resizeCentreCrop(_ image: Image, resizeShorterSide resize: Int, crop: Int) -> [Float] {
        precondition(image.channels == 1 || image.channels == 3, "images are gray or RGB")
        let plane = crop * crop
        return [Float](unsafeUninitializedCapacity: 3 * plane) { out, n in
            resizedCrop(image, resizeShorterSide: resize, crop: crop, into: out.baseAddress!)
            // Gray images are replicated into three channels.
            for c in image.channels..<3 { (out.baseAddress! + c * plane).update(from: out.baseAddress!, count: plane) }
            n = out.count
        }
    }

    /// The centre crop of the resize, [C, crop, crop] in 0…255 with the image's own channels (one for gray),
    /// into `out`. Only the cropped outputs are computed.
    public static func resizedCrop(_ image: Image, resizeShorterSide resize: Int, crop: Int, into out: UnsafeMutablePointer<Float>) {
        let (w, h) = resizedSize(width: image.width, height: image.height, shorterSide: resize)
        precondition(w * h <= maxResizedPixels, "a \(image.width)×\(image.height) image resized to \(w)×\(h) is too large (checkResizable refuses it)")
        precondition(w >= crop && h >= crop, "cannot crop \(crop)×\(crop) from \(w)×\(h)")
        // torchvision's centre crop rounds half to even (Python's round).
        let top = Int((Double(h - crop) / 2).rounded(.toNearestOrEven)), left = Int((Double(w - crop) / 2).rounded(.toNearestOrEven))
        Resample.resize(image, width: w, height: h, window: (left, top, crop, crop), into: out)
    }

    /// 0…255 → (v/255 − mean) / std per channel, in place.
    public static func normalize(_ v: inout [Float], plane: Int, mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3, "mean and std need three channels")
        for c in 0..<3 {
            let (scale, shift) = normalization(channel: c, mean: mean, std: std)
            for i in c * plane..<(c + 1) * plane { v[i] = v[i] * scale - shift }
        }
    }

    /// Channel c's normalisation as v · scale − shift (every path that normalises uses these, so they agree bit for bit).
    public static func normalization(channel c: Int, mean: [Float], std: [Float]) -> (scale: Float, shift: Float) {
        (1 / (255 * std[c]), mean[c] / std[c])
    }
}
