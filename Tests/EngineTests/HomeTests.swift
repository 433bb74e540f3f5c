import XCTest
import Engine
import Foundation

final class HomeTests: XCTestCase {
    func testHomeIsTheVariableElseTheBinarysCheckoutElseTheCurrentDirectory() throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-hometest-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let checkout = tmp + "/checkout"
        try FileManager.default.createDirectory(atPath: checkout + "/Sources/tlab", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: checkout + "/.build/x86_64-unknown-linux-gnu/release", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: checkout + "/Package.swift", contents: Data())
        let binary = checkout + "/.build/x86_64-unknown-linux-gnu/release/tlab"

        XCTAssertEqual(TLabHome.resolve(environment: ["TLAB_HOME": "/data/tlab"], executable: binary, currentDirectory: "/x"), "/data/tlab")
        XCTAssertEqual(TLabHome.resolve(environment: ["TLAB_HOME": "rel"], executable: binary, currentDirectory: "/x"), "/x/rel")
        XCTAssertEqual(TLabHome.resolve(environment: [:], executable: binary, currentDirectory: "/x"), checkout)
        XCTAssertEqual(TLabHome.resolve(environment: ["TLAB_HOME": ""], executable: binary, currentDirectory: "/x"), checkout)
        XCTAssertEqual(TLabHome.resolve(environment: [:], executable: "/usr/local/bin/tlab", currentDirectory: "/x"), "/x")
        XCTAssertEqual(TLabHome.resolve(environment: [:], executable: nil, currentDirectory: "/x"), "/x")

        let paths = ExperimentPaths(home: "/h")
        XCTAssertEqual(paths.runs, "/h/experiments/runs"); XCTAssertEqual(paths.cache, "/h/experiments/cache")
        XCTAssertEqual(paths.weights, "/h/weights"); XCTAssertEqual(paths.elpvRoot, "/h/.cache/elpv/elpv_dataset/data")
        XCTAssertEqual(paths.weightsFile("resnet18"), "/h/weights/resnet18.safetensors")
        XCTAssertTrue(ExperimentPaths().runs.hasPrefix("/"), "the default home is absolute")
    }
}
