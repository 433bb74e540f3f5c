import Foundation

/// One labelled image.
public struct Sample: Equatable, Sendable {
    public let path: String
    public let label: Int
    /// A subgroup for per-group results (ELPV: mono / poly), if the dataset has one.
    public let group: String?
}

/// A labelled image collection: class names, samples, and the subgroup names that occur.
public struct LabeledDataset: Sendable {
    public let name: String
    public let classNames: [String]
    public let samples: [Sample]
    public var groupNames: [String] { Array(Set(samples.compactMap(\.group))).sorted() }
    public var labels: [Int] { samples.map(\.label) }
    /// Entries of an image folder's class folders that are not PNG files (other files, subfolders) and so were
    /// left out; hidden ones (`.DS_Store`) are not counted. Always 0 for ELPV and CSV manifests, which list
    /// their images.
    public let skippedFiles: Int
    public init(name: String, classNames: [String], samples: [Sample], skippedFiles: Int = 0) {
        self.name = name; self.classNames = classNames; self.samples = samples; self.skippedFiles = skippedFiles
    }

    public var classCounts: [Int] {
        var c = [Int](repeating: 0, count: classNames.count)
        for s in samples { c[s.label] += 1 }
        return c
    }
}

public struct DatasetError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The ELPV solar-cell dataset (Buerhop-Lutz et al.; Deitsch et al. 2019) as shipped in the
/// `elpv-dataset` wheel: labels.csv lines `images/cellNNNN.png  <defect probability>  <mono|poly>`.
public enum ELPV {
    public static let classNames = ["p=0", "p=1/3", "p=2/3", "p=1"]
    /// Defective when the defect probability is at least 0.5 (classes p=2/3 and p=1).
    public static func isDefective(classIndex: Int) -> Bool { classIndex >= 2 }

    /// The samples' paths are absolute (see `FilePath`).
    public static func load(root: String) throws -> LabeledDataset {
        let root = FilePath.absolute(root)
        let csv = (root as NSString).appendingPathComponent("labels.csv")
        guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
            throw DatasetError("\(csv): cannot read the ELPV labels (run `make setup`)")
        }
        var samples: [Sample] = []
        for (n, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if f.isEmpty { continue }
            guard f.count == 3, let p = Double(f[1]) else {
                throw DatasetError("\(csv):\(n + 1): expected `path probability type`, got `\(line)`")
            }
            let cls = Int((p * 3).rounded())
            guard (0...3).contains(cls), abs(Double(cls) / 3 - p) < 1e-6 else {
                throw DatasetError("\(csv):\(n + 1): defect probability \(p) is not one of 0, 1/3, 2/3, 1")
            }
            samples.append(Sample(path: (root as NSString).appendingPathComponent(String(f[0])), label: cls, group: String(f[2])))
        }
        return LabeledDataset(name: "elpv", classNames: classNames, samples: samples)
    }
}
