/// The evaluation transform of torchvision's classification presets, on 8-bit images:
/// resize the shorter side (antialiased bilinear), centre-crop, scale to 0…1, normalise per channel.
public enum Preprocess {
    /// [3, crop, crop] floats, channels RGB. Gray images are replicated into three channels.
    public static func evaluation(_ image: Image, resizeShorterSide resize: Int, crop: Int, mean: [Float], std: [Float]) -> [Float] {
        var v = resizeCentreCrop(image, resizeShorterSide: resize, crop: crop)
        normalize(&v, plane: crop * crop, mean: mean, std: std)
        return v
    }

    /// Resize the shorter side to `resize`, centre-crop `crop`×`crop`: [3, crop, crop] in 0…255.
    public static func resizeCentreCrop(_ image: Image, resizeShorterSide resize: Int, crop: Int) -> [Float] {
        // torchvision: the shorter side becomes `resize`, the longer one int(resize · long / short).
        let (w, h) = image.width <= image.height
            ? (resize, Int(Double(resize) * Double(image.height) / Double(image.width)))
            : (Int(Double(resize) * Double(image.width) / Double(image.height)), resize)
        let resized = Resample.resize(image, width: w, height: h)
        precondition(w >= crop && h >= crop, "cannot crop \(crop)×\(crop) from \(w)×\(h)")
        // torchvision's centre crop rounds half to even (Python's round).
        let top = Int((Double(h - crop) / 2).rounded(.toNearestOrEven)), left = Int((Double(w - crop) / 2).rounded(.toNearestOrEven))
        var out = [Float](repeating: 0, count: 3 * crop * crop)
        for c in 0..<3 {
            let src = image.channels == 1 ? 0 : c
            for y in 0..<crop {
                let row = (src * h + top + y) * w + left
                for x in 0..<crop { out[(c * crop + y) * crop + x] = resized[row + x] }
            }
        }
        return out
    }

    /// 0…255 → (v/255 − mean) / std per channel, in place.
    public static func normalize(_ v: inout [Float], plane: Int, mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3, "mean and std need three channels")
        for c in 0..<3 {
            let scale = 1 / (255 * std[c]), shift = mean[c] / std[c]
            for i in c * plane..<(c + 1) * plane { v[i] = v[i] * scale - shift }
        }
    }
}
