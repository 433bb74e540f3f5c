import XCTest
import TerminalUI

enum RunsAction: Equatable {
    case up, down, open, compare, delete, quit, help
}

/// A runs screen's table: up/down share the hint "↑↓ move".
func runsTable() -> KeyTable<RunsAction> {
    KeyTable(title: "runs", bindings: [
        KeyBinding(keys: [.up, .char("k")], hintKeys: [.up, .down], hint: "move", description: "move up", priority: 3,
                   action: .up),
        KeyBinding(keys: [.down, .char("j")], description: "move down", action: .down),
        KeyBinding(keys: [.enter], hint: "open", description: "open the run", priority: 2, action: .open),
        KeyBinding(keys: [.char("c")], hint: "compare", description: "compare marked runs", priority: 1,
                   action: .compare),
        KeyBinding(keys: [.char("d")], hint: "delete", description: "delete the run", action: .delete),
        KeyBinding(keys: [.char("q"), .ctrl("c")], hint: "quit", description: "quit tlab", priority: 2,
                   action: .quit),
        KeyBinding(keys: [.char("?")], hint: "help", description: "show this help", action: .help),
    ])
}

final class KeyBindingTests: XCTestCase {
    func testActionForKeyFindsTheFirstBindingListingIt() {
        let table = runsTable()
        XCTAssertEqual(table.action(for: .char("k")), .up)
        XCTAssertEqual(table.action(for: .down), .down)
        XCTAssertEqual(table.action(for: .ctrl("c")), .quit)
        XCTAssertNil(table.action(for: .char("z")))
    }

    func testHintLineShowsEveryHintWhenThereIsRoom() {
        XCTAssertEqual(runsTable().hintLine(width: 80, glyphs: .unicode),
                       "↑↓ move  ⏎ open  c compare  d delete  q quit  ? help")
    }

    func testHintLineDropsLowestPriorityFirstAndKeepsHelp() {
        // The full line is 52 wide; without "d delete" (priority 0) 42, without "c compare" (1) 31.
        XCTAssertEqual(runsTable().hintLine(width: 45, glyphs: .unicode), "↑↓ move  ⏎ open  c compare  q quit  ? help")
        XCTAssertEqual(runsTable().hintLine(width: 31, glyphs: .unicode), "↑↓ move  ⏎ open  q quit  ? help")
    }

    func testHintLineDropsTheLaterHintOnEqualPriority() {
        // "⏎ open" and "q quit" both have priority 2: "q quit" goes first.
        XCTAssertEqual(runsTable().hintLine(width: 30, glyphs: .unicode), "↑↓ move  ⏎ open  ? help")
    }

    func testHelpHintSurvivesEvenAlone() {
        XCTAssertEqual(runsTable().hintLine(width: 8, glyphs: .unicode), "? help")
        XCTAssertEqual(runsTable().hintLine(width: 4, glyphs: .unicode), "? h…")
    }

    func testHintLineWithoutAHelpKeyHasNoHelpHint() {
        let table = KeyTable(title: "t", bindings: [
            KeyBinding(keys: [.char("q")], hint: "quit", description: "quit", action: 1),
            KeyBinding(keys: [.char("r")], description: "refresh", action: 2),
        ])
        XCTAssertEqual(table.hintLine(width: 40, glyphs: .unicode), "q quit")
    }

    func testHintLineUsesASCIIKeyNames() {
        XCTAssertEqual(runsTable().hintLine(width: 80, glyphs: .ascii),
                       "^v move  Enter open  c compare  d delete  q quit  ? help")
    }

    func testFixedLabelOverridesTheHintKeys() {
        let table = KeyTable(title: "t", bindings: [
            KeyBinding(keys: [.left], label: "←→", hintKeys: [.up], hint: "tab", description: "previous tab", action: 1),
        ])
        XCTAssertEqual(table.hintLine(width: 20, glyphs: .ascii), "←→ tab")
    }

    func testDuplicateHintsAreShownOnce() {
        let table = KeyTable(title: "t", bindings: [
            KeyBinding(keys: [.up], hintKeys: [.up, .down], hint: "move", description: "up", action: 1),
            KeyBinding(keys: [.down], hintKeys: [.up, .down], hint: "move", description: "down", action: 2),
        ])
        XCTAssertEqual(table.hintLine(width: 40, glyphs: .unicode), "↑↓ move")
    }

    func testHelpEntriesListEveryBindingWithAllItsKeys() {
        let entries = runsTable().helpEntries(filter: "")
        XCTAssertEqual(entries.count, 7)
        XCTAssertEqual(entries[0].keys, "↑ k")
        XCTAssertEqual(entries[0].description, "move up")
        XCTAssertEqual(entries[5].keys, "q ^C")
    }

    func testHelpEntriesFilterIgnoresCaseOnDescriptions() {
        let entries = runsTable().helpEntries(filter: "MOVE")
        XCTAssertEqual(entries.map(\.description), ["move up", "move down"])
    }

    func testHelpEntriesFilterMatchesKeys() {
        XCTAssertEqual(runsTable().helpEntries(filter: "^c").map(\.description), ["quit tlab"])
        XCTAssertTrue(runsTable().helpEntries(filter: "xyz").isEmpty)
    }

    func testRenderHintsDrawsKeysBold() {
        let canvas = Canvas(width: 30, height: 1)
        let table = KeyTable(title: "t", bindings: [
            KeyBinding(keys: [.char("q")], hint: "quit", description: "quit", action: 1),
            KeyBinding(keys: [.char("?")], description: "help", action: 2),
        ])
        table.renderHints(into: canvas, x: 1, y: 0, width: 29, glyphs: .unicode)
        XCTAssertEqual(canvas.text, " q quit  ? help")
        XCTAssertEqual(canvas[x: 1, y: 0], Cell("q", style: .bold))
        XCTAssertEqual(canvas[x: 3, y: 0], Cell("q", style: .plain))
        XCTAssertEqual(canvas[x: 9, y: 0], Cell("?", style: .bold))
    }
}
