import XCTest
import Foundation

/// Wrong input is refused with a message that names what is wrong, on stderr, with a non-zero status.
extension CLITests {
    func testAnUnknownPresetIsRefusedWithTheChoices() throws {
        let r = try run(["train", "--preset", "fine-tune-some"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("fine-tune-some"), r.err)
        XCTAssertTrue(r.err.contains("feature-extraction") && r.err.contains("gradual"), r.err)
        let config = try run(["config", "--preset", "gradual"])
        XCTAssertEqual(config.status, 0, config.err)
        XCTAssertTrue(config.out.contains(#""optimizer" : "adamw""#), config.out)
        XCTAssertTrue(config.out.contains(#""kind" : "elpv""#), config.out)
    }
}
