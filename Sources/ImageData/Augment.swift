import Foundation
import Kernels

/// Training-time augmentation, torchvision semantics: RandomResizedCrop, RandomHorizontalFlip,
/// RandomVerticalFlip, RandomRotation (bilinear, black fill) and ColorJitter's brightness and contrast.
public struct Augmentation: Equatable, Sendable {
    /// RandomResizedCrop: area fraction range and aspect-ratio range; nil keeps the evaluation resize + centre crop.
    public var cropScale: ClosedRange<Float>?
    public var cropRatio: ClosedRange<Float> = 0.75...(4.0 / 3.0)
    public var horizontalFlip = false
    public var verticalFlip = false
    /// Angle drawn uniformly from ±this many degrees.
    public var rotationDegrees: Float = 0
    /// ColorJitter factors drawn from [max(0, 1 − b), 1 + b] and [max(0, 1 − c), 1 + c].
    public var brightness: Float = 0
    public var contrast: Float = 0

    public init(cropScale: ClosedRange<Float>? = nil, horizontalFlip: Bool = false, verticalFlip: Bool = false,
                rotationDegrees: Float = 0, brightness: Float = 0, contrast: Float = 0) {
        self.cropScale = cropScale; self.horizontalFlip = horizontalFlip; self.verticalFlip = verticalFlip
        self.rotationDegrees = rotationDegrees; self.brightness = brightness; self.contrast = contrast
    }

    public var isIdentity: Bool {
        cropScale == nil && !horizontalFlip && !verticalFlip && rotationDegrees == 0 && brightness == 0 && contrast == 0
    }

    /// [3, size, size] floats in 0…255 (not yet normalised). Every random choice comes from `generator`, in a
    /// fixed order, so one seed per sample makes a batch reproducible whatever thread decodes it.
    public func apply(_ image: Image, resizeShorterSide resize: Int, size: Int, generator g: inout SeededGenerator) -> [Float] {
        var v: [Float]
        if let scale = cropScale {
            let box = Self.randomResizedCropBox(width: image.width, height: image.height, scale: scale, ratio: cropRatio, generator: &g)
            v = Resample.resize(Self.crop(image, box), width: size, height: size)
            if image.channels == 1 { v = v + v + v }
        } else {
            v = Preprocess.resizeCentreCrop(image, resizeShorterSide: resize, crop: size)
        }
        return applyAfterCrop(v, size: size, generator: &g)
    }

    /// True when nothing follows the evaluation crop but flips (`ImageBatch` then flips while it copies).
    public var isFlipsOnly: Bool { cropScale == nil && rotationDegrees == 0 && brightness == 0 && contrast == 0 }

    /// The flips of one image, drawn from `generator` as `apply` draws them (horizontal first).
    public func drawFlips(_ g: inout SeededGenerator) -> (horizontal: Bool, vertical: Bool) {
        let h = horizontalFlip && g.nextFloat() < 0.5, vf = verticalFlip && g.nextFloat() < 0.5
        return (h, vf)
    }

    /// Everything after the crop: flips, rotation, brightness, contrast, drawn from `generator` in that order.
    public func applyAfterCrop(_ cropped: [Float], size: Int, generator g: inout SeededGenerator) -> [Float] {
        var v = cropped
        let (h, vf) = drawFlips(&g)
        if h || vf { v = Self.flipped(v, size: size, horizontal: h, vertical: vf) }
        if rotationDegrees > 0 {
            let angle = (g.nextFloat() * 2 - 1) * rotationDegrees
            v = Self.rotated(v, size: size, degrees: angle)
        }
        if brightness > 0 {
            let f = Self.factor(brightness, &g)
            for i in v.indices { v[i] = min(max(v[i] * f, 0), 255) }
        }
        if contrast > 0 {
            let f = Self.factor(contrast, &g)
            // The mean of the grayscale image (ITU-R 601 luma), as torchvision's adjust_contrast.
            let plane = size * size
            var sum: Double = 0
            for i in 0..<plane { sum += Double(0.299 * v[i] + 0.587 * v[plane + i] + 0.114 * v[2 * plane + i]) }
            let mean = Float(sum / Double(plane))
            for i in v.indices { v[i] = min(max(f * v[i] + (1 - f) * mean, 0), 255) }
        }
        return v
    }

    static func factor(_ amount: Float, _ g: inout SeededGenerator) -> Float {
        let lo = max(0, 1 - amount), hi = 1 + amount
        return lo + (hi - lo) * g.nextFloat()
    }

    /// torchvision's RandomResizedCrop.get_params: ten tries at a box of random area and log-uniform aspect
    /// ratio that fits, then the largest centred box within the ratio range.
    public static func randomResizedCropBox(width w: Int, height h: Int, scale: ClosedRange<Float>, ratio: ClosedRange<Float>,
                                     generator g: inout SeededGenerator) -> (x: Int, y: Int, w: Int, h: Int) {
        let area = Float(w * h), logLo = log(ratio.lowerBound), logHi = log(ratio.upperBound)
        for _ in 0..<10 {
            let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * g.nextFloat())
            let aspect = exp(logLo + (logHi - logLo) * g.nextFloat())
            let cw = Int((target * aspect).squareRoot().rounded()), ch = Int((target / aspect).squareRoot().rounded())
            if cw > 0 && ch > 0 && cw <= w && ch <= h {
                let y = Int(g.next() % UInt64(h - ch + 1)), x = Int(g.next() % UInt64(w - cw + 1))
                return (x, y, cw, ch)
            }
        }
        let inRatio = Float(w) / Float(h)
        var cw = w, ch = h
        if inRatio < ratio.lowerBound { ch = Int((Float(w) / ratio.lowerBound).rounded()) }
        else if inRatio > ratio.upperBound { cw = Int((Float(h) * ratio.upperBound).rounded()) }
        return ((w - cw) / 2, (h - ch) / 2, cw, ch)
    }

    static func crop(_ image: Image, _ box: (x: Int, y: Int, w: Int, h: Int)) -> Image {
        let c = image.channels
        var px = [UInt8](repeating: 0, count: box.w * box.h * c)
        for y in 0..<box.h {
            let src = ((box.y + y) * image.width + box.x) * c
            for i in 0..<box.w * c { px[y * box.w * c + i] = image.pixels[src + i] }
        }
        return Image(width: box.w, height: box.h, channels: c, pixels: px)
    }

    /// Flips planar [3, size, size] values.
    public static func flipped(_ v: [Float], size: Int, horizontal: Bool, vertical: Bool) -> [Float] {
        var out = v
        for c in 0..<3 { for y in 0..<size { for x in 0..<size {
            out[(c * size + y) * size + x] = v[(c * size + (vertical ? size - 1 - y : y)) * size + (horizontal ? size - 1 - x : x)]
        } } }
        return out
    }

    /// Rotates planar [3, size, size] values counter-clockwise by `degrees` about the centre, bilinear,
    /// filling what comes from outside the image with 0 (black).
    public static func rotated(_ v: [Float], size: Int, degrees: Float) -> [Float] {
        let a = degrees * .pi / 180, cosA = cos(a), sinA = sin(a), centre = Float(size - 1) / 2
        var out = [Float](repeating: 0, count: v.count)
        for y in 0..<size {
            for x in 0..<size {
                // Inverse map: where in the source this output pixel comes from.
                let dx = Float(x) - centre, dy = Float(y) - centre
                let sx = cosA * dx - sinA * dy + centre, sy = sinA * dx + cosA * dy + centre
                let x0 = Int(sx.rounded(.down)), y0 = Int(sy.rounded(.down)), fx = sx - Float(x0), fy = sy - Float(y0)
                for c in 0..<3 {
                    func at(_ xx: Int, _ yy: Int) -> Float {
                        xx >= 0 && yy >= 0 && xx < size && yy < size ? v[(c * size + yy) * size + xx] : 0
                    }
                    let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
                    let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
                    out[(c * size + y) * size + x] = top * (1 - fy) + bottom * fy
                }
            }
        }
        return out
    }
}
