import XCTest
import ImageData
import Kernels

final class AugmentationTests: XCTestCase {
    /// A 40×30 RGB image whose every pixel differs, so a wrong index shows.
    let image: Image = {
        var px = [UInt8](repeating: 0, count: 40 * 30 * 3)
        for i in 0..<px.count { let v: Int = (i * 7 + i / 120) % 251; px[i] = UInt8(v) }
        return Image(width: 40, height: 30, channels: 3, pixels: px)
    }()

    func testNoAugmentationIsTheEvaluationTransform() {
        var g = SeededGenerator(seed: 3)
        XCTAssertEqual(Augmentation().apply(image, resizeShorterSide: 24, size: 24, generator: &g),
                       Preprocess.resizeCentreCrop(image, resizeShorterSide: 24, crop: 24))
        // And normalising that is exactly `Preprocess.evaluation`.
        var v = Preprocess.resizeCentreCrop(image, resizeShorterSide: 24, crop: 24)
        Preprocess.normalize(&v, plane: 24 * 24, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3])
        XCTAssertEqual(v, Preprocess.evaluation(image, resizeShorterSide: 24, crop: 24, mean: [0.4, 0.5, 0.6], std: [0.2, 0.25, 0.3]))
    }

    func testFlipsMirrorAndUndoThemselves() {
        let v = Preprocess.resizeCentreCrop(image, resizeShorterSide: 8, crop: 8)
        let h = Augmentation.flipped(v, size: 8, horizontal: true, vertical: false)
        let row: Int = (1 * 8 + 2) * 8
        XCTAssertEqual(h[row], v[row + 7])
        let hv = Augmentation.flipped(h, size: 8, horizontal: false, vertical: true)
        let top: Int = (2 * 8 + 0) * 8, bottom: Int = (2 * 8 + 7) * 8
        XCTAssertEqual(hv[top + 3], v[bottom + 4])
        XCTAssertEqual(Augmentation.flipped(hv, size: 8, horizontal: true, vertical: true), v)
    }

    func testRotationByZeroIsTheIdentityAndByNinetyDegreesMovesRowsToColumns() {
        let n = 9
        var v = [Float](repeating: 0, count: 3 * n * n)
        for i in v.indices { v[i] = Float(i % 97) }
        XCTAssertEqual(Augmentation.rotated(v, size: n, degrees: 0), v)
        let r = Augmentation.rotated(v, size: n, degrees: 90)
        for c in 0..<3 { for y in 0..<n { for x in 0..<n {
            let out: Int = (c * n + y) * n + x, src: Int = (c * n + x) * n + (n - 1 - y)
            XCTAssertEqual(r[out], v[src], accuracy: 1e-3)
        } } }
        // Corners of a 45° turn come from outside the image: black.
        XCTAssertEqual(Augmentation.rotated(v, size: n, degrees: 45)[0], 0)
    }

    func testRandomResizedCropBoxesRespectScaleAndRatio() {
        var g = SeededGenerator(seed: 11)
        for _ in 0..<500 {
            let b = Augmentation.randomResizedCropBox(width: 300, height: 200, scale: 0.3...0.9, ratio: 0.75...(4.0 / 3), generator: &g)
            XCTAssertTrue(b.x >= 0 && b.y >= 0 && b.x + b.w <= 300 && b.y + b.h <= 200, "\(b)")
            let area = Float(b.w * b.h) / 60_000, aspect = Float(b.w) / Float(b.h)
            XCTAssertTrue(area > 0.29 && area < 0.91, "area \(area)")
            XCTAssertTrue(aspect > 0.74 && aspect < 1.35, "aspect \(aspect)")
        }
        // Nothing of that ratio fits a 1000×10 strip: torchvision's fallback, the centred box clamped to the ratio.
        let f = Augmentation.randomResizedCropBox(width: 1000, height: 10, scale: 0.9...1, ratio: 0.75...(4.0 / 3), generator: &g)
        XCTAssertEqual(f.w, 13); XCTAssertEqual(f.h, 10); XCTAssertEqual(f.x, (1000 - 13) / 2); XCTAssertEqual(f.y, 0)
    }

    func testBrightnessAndContrastStayInRangeAndTheSeedDecidesEverything() {
        let a = Augmentation(cropScale: 0.5...1, horizontalFlip: true, verticalFlip: true, rotationDegrees: 15, brightness: 0.4, contrast: 0.4)
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5), g3 = SeededGenerator(seed: 6)
        let x = a.apply(image, resizeShorterSide: 16, size: 16, generator: &g1)
        XCTAssertEqual(x, a.apply(image, resizeShorterSide: 16, size: 16, generator: &g2))
        XCTAssertNotEqual(x, a.apply(image, resizeShorterSide: 16, size: 16, generator: &g3))
        XCTAssertEqual(x.count, 3 * 16 * 16)
        XCTAssertTrue(x.allSatisfy { $0 >= 0 && $0 <= 255 })
        // Brightness alone scales every pixel by one factor within [0.6, 1.4].
        let b = Augmentation(brightness: 0.4)
        var g = SeededGenerator(seed: 9)
        let base = Preprocess.resizeCentreCrop(image, resizeShorterSide: 16, crop: 16)
        let bright = b.apply(image, resizeShorterSide: 16, size: 16, generator: &g)
        var ratios: [Float] = []
        for (o, i) in zip(bright, base) where i > 1 && o < 255 { ratios.append(o / i) }
        XCTAssertTrue(ratios.allSatisfy { abs($0 - ratios[0]) < 1e-3 } && ratios[0] >= 0.6 && ratios[0] <= 1.4, "\(ratios.prefix(3))")
        // Gray images come out with three equal channels whatever the crop.
        let gray = Image(width: 20, height: 20, channels: 1, pixels: (0..<400).map { (i: Int) -> UInt8 in UInt8(i % 256) })
        var gg = SeededGenerator(seed: 1)
        let y = Augmentation(cropScale: 0.5...1).apply(gray, resizeShorterSide: 8, size: 8, generator: &gg)
        XCTAssertEqual(Array(y[0..<64]), Array(y[64..<128])); XCTAssertEqual(Array(y[0..<64]), Array(y[128..<192]))
    }
}
