import Foundation

/// "Did you mean …?" for misspelt config keys and values: the known name nearest to what was written.
public enum Suggestion {
    /// The candidate nearest to `word`, if it is near enough to be a plausible misspelling: names that differ
    /// only in case, `_` or `-` (`batch_size` → `batchSize`, `learningrate` → `learningRate`) always are;
    /// otherwise at most a third of the word's letters (and at least 1, at most 3) may differ.
    public static func nearest(_ word: String, in candidates: [String]) -> String? {
        let w = normalized(word)
        var best: (name: String, distance: Int)?
        for c in candidates {
            let d = editDistance(w, normalized(c))
            if best == nil || d < best!.distance { best = (c, d) }
        }
        guard let best else { return nil }
        return best.distance <= min(3, max(1, w.count / 3)) ? best.name : nil
    }

    /// " did you mean `x`?" or " known: a, b, c" — the tail of an error message about `word`.
    public static func hint(for word: String, in candidates: [String]) -> String {
        if let n = nearest(word, in: candidates) { return "did you mean `\(n)`?" }
        return "known: " + candidates.joined(separator: ", ")
    }

    static func normalized(_ s: String) -> [Character] { Array(s.lowercased().filter { $0 != "_" && $0 != "-" }) }

    /// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of neighbours cost 1.
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}

/// A config value that is one of a few names (`"adamw"`, `"elpv"`, `"stats-only"`). Stored as its name in
/// JSON; an unknown name is refused with the choices and the nearest one, never mapped to a default.
public protocol ConfigChoice: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ConfigChoice {
    /// Every name, in declaration order.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// The choice called `name`, or an error that names `field`, the choices and the nearest one.
    public init(named name: String, field: String) throws {
        guard let v = Self(rawValue: name) else { throw ExperimentConfig.Invalid(field: field, reason: Self.refusal(name)) }
        self = v
    }

    static func refusal(_ name: String) -> String {
        "'\(name)' is not one of \(names.joined(separator: ", "))" + (Suggestion.nearest(name, in: names).map { "; did you mean `\($0)`?" } ?? "")
    }

    public init(from decoder: Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let v = Self(rawValue: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: Self.refusal(name)))
        }
        self = v
    }
}
