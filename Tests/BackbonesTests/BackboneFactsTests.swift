import XCTest
import Backbones

/// The facts `tlab backbones` and the workbench print without building anything must be what the built
/// networks say: parameters, GFLOPs, per-group parameters and layer descriptions.
final class BackboneFactsTests: XCTestCase {
    func testWrittenDownFactsEqualTheBuiltNetworks() {
        for spec in Backbones.specs {
            let net = Backbones.make(spec.name)!
            let computed = net.computedFacts()
            XCTAssertEqual(spec.facts, computed, "\(spec.name): update its facts in Registry.swift to \(computed)")
            XCTAssertEqual(spec.parameters, net.parameterCount, spec.name)
            XCTAssertEqual(spec.gflops, net.flops() / 1e9, spec.name)
            XCTAssertEqual(Set(spec.groupParameters.keys), Set(spec.groupNames), spec.name)
            for g in spec.groupNames {
                XCTAssertEqual(spec.groupParameters[g], net.layers(inGroup: g).reduce(0) { $0 + $1.parameterCount }, "\(spec.name) \(g)")
                XCTAssertEqual(spec.groupLayers[g], net.layerSummary(ofGroup: g), "\(spec.name) \(g)")
            }
        }
    }

    func testGroupDescriptionsReadLikeTheArchitectures() {
        let lite0 = Backbones.spec("efficientnet_lite0")!, r18 = Backbones.spec("resnet18")!, vit = Backbones.spec("vit_b16")!
        XCTAssertEqual(lite0.groupLayers["early"], "stem, blocks 0–4")
        XCTAssertEqual(lite0.groupLayers["final"], "blocks 11–15, conv head")
        XCTAssertEqual(r18.groupLayers["early"], "conv1, layer1", "BatchNorm, ReLU and max-pool ride along unnamed")
        XCTAssertEqual(r18.groupLayers["intermediate"], "layer2, layer3", "whole stages are named without block ranges")
        XCTAssertEqual(vit.groupLayers["early"], "patch embedding, encoder layers 0–3")
        XCTAssertEqual(Backbones.spec("vgg16")!.groupLayers["final"], "features 24–30, classifier")
    }
}
