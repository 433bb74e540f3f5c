import XCTest
import Engine
import Foundation

/// tlab finds its weights, data and runs from one home, whatever the current directory.
extension CLITests {
    /// Runs tlab in `directory` with `TLAB_HOME` set to `home`, or unset when nil.
    func run(_ args: [String], in directory: String, home: String?) throws -> (status: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        env[TLabHome.variable] = home
        return try run(args, in: directory, environment: env)
    }

    func testCommandsWorkFromAnyDirectoryWithoutTLabHome() throws {
        let fromRoot = try run(["backbones", "--json"], in: root.path, home: nil)
        let fromTmp = try run(["backbones", "--json"], in: "/tmp", home: nil)
        XCTAssertEqual(fromTmp.status, 0, fromTmp.err)
        XCTAssertEqual(fromTmp.out, fromRoot.out, "the same weights are found from /tmp as from the checkout")
        let lite0 = try XCTUnwrap(try jsonLines(fromTmp.out).first)
        let file = try XCTUnwrap(lite0["weights_file"] as? String)
        XCTAssertTrue(file.hasPrefix("/") && file.hasSuffix("/weights/efficientnet_lite0.safetensors"), file)
        XCTAssertEqual(lite0["weights_present"] as? Bool, FileManager.default.fileExists(atPath: file))
        if FileManager.default.fileExists(atPath: root.appendingPathComponent("weights/efficientnet_lite0.safetensors").path) {
            XCTAssertEqual(lite0["weights_present"] as? Bool, true, "found the checkout's weights from /tmp")
        }
        let runsFromRoot = try run(["runs"], in: root.path, home: nil), runsFromTmp = try run(["runs"], in: "/tmp", home: nil)
        XCTAssertEqual(runsFromTmp.status, 0, runsFromTmp.err)
        func ids(_ s: String) -> [Substring] { s.split(separator: "\n").compactMap { $0.split(separator: " ").first } }
        XCTAssertEqual(ids(runsFromTmp.out), ids(runsFromRoot.out))
    }

    func testTLabHomeMovesEveryDefaultAndHelpSaysSo() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-home-\(getpid())")
        try FileManager.default.createDirectory(at: home.appendingPathComponent("weights"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try Data("x".utf8).write(to: home.appendingPathComponent("weights/resnet18.safetensors"))
        let r = try run(["backbones", "--json"], in: "/", home: home.path)
        XCTAssertEqual(r.status, 0, r.err)
        let rows = try jsonLines(r.out)
        let r18 = try XCTUnwrap(rows.first { $0["name"] as? String == "resnet18" })
        XCTAssertEqual(r18["weights_file"] as? String, home.appendingPathComponent("weights/resnet18.safetensors").path)
        XCTAssertEqual(r18["weights_present"] as? Bool, true)
        let none = try run(["runs"], in: "/", home: home.path)
        XCTAssertEqual(none.status, 0, none.err)
        XCTAssertTrue(none.out.contains("no runs yet (\(home.path)/experiments/runs)"), none.out)
        let missing = try run(["runs", "--runs", home.appendingPathComponent("elsewhere").path], in: "/", home: home.path)
        XCTAssertNotEqual(missing.status, 0, "a runs folder the user names must exist")

        let help = try run(["--help"], in: "/", home: home.path)
        XCTAssertTrue(help.out.contains("TLAB_HOME"), help.out)
        XCTAssertTrue(help.out.contains(home.path), help.out)
        let version = try run(["--version"], in: "/", home: nil)
        XCTAssertEqual(version.status, 0, version.err)
        XCTAssertTrue(version.out.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, version.out)
    }
}
