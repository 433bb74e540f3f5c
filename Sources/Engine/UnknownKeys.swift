import Foundation

/// Config files are written by hand, so a misspelt key (`"epoch"`, `"batch_size"`, `"learningrate"`) must
/// be refused, never silently replaced by a default. Each config object checks its keys against the ones it
/// knows while decoding; `ExperimentConfig.decode` collects every unknown key and reports the first in the
/// file, naming its path and the nearest known key.
enum UnknownKeys {
    /// Any key of a JSON object, to list what a container holds.
    struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    /// One unknown key: where it is and what was known there.
    struct Found {
        let path: [String], key: String, known: [String]
        var field: String { (path + [key]).joined(separator: ".") }
        var hint: String { Suggestion.hint(for: key, in: known) }
    }

    /// Where a decode that `ExperimentConfig.decode` runs puts what it finds (through the decoder's userInfo).
    final class Collector: @unchecked Sendable {
        var found: [Found] = []
        static let key = CodingUserInfoKey(rawValue: "tlab.unknownKeys")!
    }

    /// Checks the keys of the object `decoder` is at (at `path` under it, e.g. ["cosine"] for a schedule's
    /// parameters) against `known`. With a collector each unknown key is recorded and decoding goes on;
    /// without one the first is an error at once.
    static func check(_ decoder: Decoder, known: [String], at path: [String] = []) throws {
        var container = try decoder.container(keyedBy: AnyKey.self)
        for part in path { container = try container.nestedContainer(keyedBy: AnyKey.self, forKey: AnyKey(stringValue: part)) }
        let base = decoder.codingPath.map(\.stringValue) + path
        let unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
            .map { Found(path: base, key: $0, known: known) }
        guard !unknown.isEmpty else { return }
        if let collector = decoder.userInfo[Collector.key] as? Collector { collector.found += unknown; return }
        throw error(unknown, in: nil)
    }

    /// The error for `found`, first in file order (by where each key first appears in `text`), naming the rest.
    static func error(_ found: [Found], in text: String?) -> ExperimentConfig.Invalid {
        func position(_ f: Found) -> Int {
            guard let text, let r = text.range(of: "\"\(f.key)\"\\s*:", options: .regularExpression) else { return Int.max }
            return text.distance(from: text.startIndex, to: r.lowerBound)
        }
        let ordered = found.enumerated().sorted { (position($0.element), $0.offset) < (position($1.element), $1.offset) }.map(\.element)
        let first = ordered[0]
        var reason = "unknown key; \(first.hint)"
        let rest = ordered.dropFirst().map { "`\($0.field)` (\($0.hint))" }
        if !rest.isEmpty { reason += "; also unknown: " + rest.joined(separator: ", ") }
        return ExperimentConfig.Invalid(field: first.field, reason: reason)
    }
}

extension Decoder {
    /// Refuses keys of this object that `Keys` does not name (see `UnknownKeys`).
    func refuseUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        try UnknownKeys.check(self, known: keys.allCases.map(\.stringValue))
    }
}
