import XCTest
import ImageData

final class ResampleAndSplitTests: XCTestCase {
    let source = Image(width: 9, height: 7, channels: 1, pixels: (0..<7).flatMap { i in (0..<9).map { j in UInt8((i * 37 + j * 11) % 256) } })

    /// Expected values: torchvision.transforms.functional.resize(float tensor, antialias=True), bilinear.
    func testResizeMatchesTorchvisionAntialiasedBilinear() {
        let down: [Float] = [25.667, 42.756, 63.381, 84.006, 101.095, 83.246, 100.335, 120.96, 141.585, 158.674, 151.326, 168.415,
                             189.04, 200.065, 179.211, 208.905, 225.994, 144.076, 112.577, 48.361]
        assertClose(Resample.resize(source, width: 5, height: 4), down)
        let rows: [Float] = [31.714, 42.714, 53.714, 64.714, 75.714, 86.714, 97.714, 108.714, 119.714, 111.0, 122.0, 133.0, 144.0, 155.0,
                             166.0, 177.0, 172.941, 183.941, 190.286, 201.286, 212.286, 223.286, 142.857, 153.857, 164.857, 66.143, 77.143]
        assertClose(Resample.resize(source, width: 9, height: 3), rows)
        let up = Resample.resize(source, width: 14, height: 12)
        assertClose(Array(up.prefix(14)), [0.0, 5.107, 12.179, 19.25, 26.321, 33.393, 40.464, 47.536, 54.607, 61.679, 68.75, 75.821, 82.893, 88.0])
        assertClose(Array(up.suffix(7)), [13.536, 20.607, 27.679, 34.75, 41.821, 48.893, 54.0])
        XCTAssertEqual(Resample.resize(source, width: 9, height: 7), source.pixels.map(Float.init), "same size is the identity")
    }

    /// The resize is the plain two-pass definition bit for bit (the reference below spells it out with one
    /// array per output's taps), for gray and RGB, shrinking (ELPV's 300 → 224) and enlarging.
    func testResizeIsTheTwoPassDefinitionBitForBit() {
        func reference(_ image: Image, _ outW: Int, _ outH: Int) -> [Float] {
            func taps(_ inSize: Int, _ outSize: Int) -> [(Int, [Float])] {
                let scale = Float(inSize) / Float(outSize), support: Float = scale >= 1 ? scale : 1, inv: Float = scale >= 1 ? 1 / scale : 1
                return (0..<outSize).map { o in
                    let center = scale * (Float(o) + 0.5)
                    let lo = max(Int(center - support + 0.5), 0), hi = min(Int(center + support + 0.5), inSize)
                    var w = (lo..<hi).map { j in max(0, 1 - abs((Float(j) - center + 0.5) * inv)) }
                    let total = w.reduce(0, +)
                    if total != 0 { w = w.map { $0 / total } }
                    return (lo, w)
                }
            }
            let c = image.channels, tx = taps(image.width, outW), ty = taps(image.height, outH)
            var mid = [Float](repeating: 0, count: c * image.height * outW)
            for y in 0..<image.height { for x in 0..<outW { for ch in 0..<c {
                var acc: Float = 0
                for (k, w) in tx[x].1.enumerated() { acc += w * Float(image.pixels[(y * image.width + tx[x].0 + k) * c + ch]) }
                mid[(ch * image.height + y) * outW + x] = acc
            } } }
            var out = [Float](repeating: 0, count: c * outH * outW)
            for ch in 0..<c { for y in 0..<outH { for (k, w) in ty[y].1.enumerated() { for x in 0..<outW {
                out[(ch * outH + y) * outW + x] += w * mid[(ch * image.height + ty[y].0 + k) * outW + x]
            } } } }
            return out
        }
        var g = SystemRandomNumberGenerator()
        for (w, h, c, outW, outH) in [(300, 300, 1, 224, 224), (64, 48, 3, 37, 29), (20, 30, 3, 45, 61), (300, 300, 1, 300, 300)] {
            let image = Image(width: w, height: h, channels: c, pixels: (0..<w * h * c).map { _ in UInt8.random(in: 0...255, using: &g) })
            XCTAssertEqual(Resample.resize(image, width: outW, height: outH), reference(image, outW, outH), "\(w)×\(h)×\(c) → \(outW)×\(outH)")
        }
    }

    /// The centre crop computes only the kept window of the resize, with the same bits as cropping the whole
    /// resize; gray images come back replicated into three channels.
    func testCentreCropIsTheWindowOfTheWholeResize() {
        var g = SystemRandomNumberGenerator()
        for (w, h, c, resize, crop) in [(64, 48, 3, 40, 32), (48, 64, 1, 40, 31), (300, 300, 1, 224, 224), (30, 20, 3, 45, 40)] {
            let image = Image(width: w, height: h, channels: c, pixels: (0..<w * h * c).map { _ in UInt8.random(in: 0...255, using: &g) })
            let (rw, rh) = Preprocess.resizedSize(width: w, height: h, shorterSide: resize)
            let whole = Resample.resize(image, width: rw, height: rh)
            let top = Int((Double(rh - crop) / 2).rounded(.toNearestOrEven)), left = Int((Double(rw - crop) / 2).rounded(.toNearestOrEven))
            let expected = (0..<3).flatMap { ch in (0..<crop).flatMap { y in (0..<crop).map { x in whole[((c == 1 ? 0 : ch) * rh + top + y) * rw + left + x] } } }
            XCTAssertEqual(Preprocess.resizeCentreCrop(image, resizeShorterSide: resize, crop: crop), expected, "\(w)×\(h)×\(c) → \(resize) / \(crop)")
        }
    }

    func assertClose(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 2e-3, file: file, line: line) }
    }

    func testStratifiedSplitOnELPVProportions() {
        let labels = [Int](repeating: 0, count: 1508) + [Int](repeating: 1, count: 295) + [Int](repeating: 2, count: 106) + [Int](repeating: 3, count: 715)
        let (train, val) = Split.stratified(labels: labels, validationFraction: 0.25, seed: 0)
        XCTAssertEqual(val.count, 656); XCTAssertEqual(train.count, 1968)
        XCTAssertTrue(Set(train).isDisjoint(with: val)); XCTAssertEqual(Set(train + val).count, labels.count)
        XCTAssertEqual((0..<4).map { c in val.filter { labels[$0] == c }.count }, [377, 74, 26, 179])
        let again = Split.stratified(labels: labels, validationFraction: 0.25, seed: 0)
        XCTAssertEqual(again.validation, val, "same seed, same split")
        XCTAssertNotEqual(Split.stratified(labels: labels, validationFraction: 0.25, seed: 1).validation, val)
    }

    func testKFoldPartitionsAndStratifies() {
        let labels = (0..<103).map { $0 % 3 == 0 ? 1 : 0 }
        let folds = Split.kFold(labels: labels, folds: 5, seed: 3)
        XCTAssertEqual(folds.count, 5)
        XCTAssertEqual(folds.flatMap(\.validation).sorted(), Array(0..<103), "every sample is validated exactly once")
        let sizes = folds.map(\.validation.count)
        XCTAssertLessThanOrEqual(sizes.max()! - sizes.min()!, 1)
        for f in folds {
            XCTAssertTrue(Set(f.train).isDisjoint(with: f.validation))
            let positives = f.validation.filter { labels[$0] == 1 }.count
            XCTAssertEqual(Double(positives) / Double(f.validation.count), 35.0 / 103, accuracy: 0.06)
        }
    }

    func testELPVManifest() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.cache/elpv/elpv_dataset/data").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: root + "/labels.csv"), "run `make setup` to fetch ELPV")
        let d = try ELPV.load(root: root)
        XCTAssertEqual(d.samples.count, 2624)
        XCTAssertEqual(d.classCounts, [1508, 295, 106, 715])
        XCTAssertEqual(d.groupNames, ["mono", "poly"])
        XCTAssertEqual(d.samples.filter { ELPV.isDefective(classIndex: $0.label) }.count, 821)
    }

    func testManifestErrorsNameTheLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("elpv-bad-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "images/a.png 0.0 mono\nimages/b.png 0.5 poly\n".write(to: dir.appendingPathComponent("labels.csv"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ELPV.load(root: dir.path)) { e in XCTAssertTrue("\(e)".contains("labels.csv:2"), "\(e)") }
    }
}
