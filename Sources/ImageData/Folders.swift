import Foundation

extension LabeledDataset {
    /// An image-folder dataset: `root/CLASS/*.png`, or `root/train/CLASS/*.png` + `root/val/CLASS/*.png`, in
    /// which case `predefinedSplit` holds the indices of each part. Classes are the sorted folder names.
    /// Sample paths are absolute (see `FilePath`).
    public static func imageFolder(root: String) throws -> (dataset: LabeledDataset, predefinedSplit: (train: [Int], validation: [Int])?) {
        let root = FilePath.absolute(root)
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError("\(root): no such folder")
        }
        func subfolders(_ path: String) throws -> [String] {
            try Self.entries(path).filter { name in
                var d: ObjCBool = false
                return !name.hasPrefix(".") && fm.fileExists(atPath: (path as NSString).appendingPathComponent(name), isDirectory: &d) && d.boolValue
            }.sorted()
        }
        // The PNG files of a class folder; every other visible entry is counted as left out, never skipped silently.
        var skipped = 0
        func pngs(_ path: String) throws -> [String] {
            var files: [String] = []
            for name in try Self.entries(path) where !name.hasPrefix(".") {
                let full = (path as NSString).appendingPathComponent(name)
                var isDir: ObjCBool = false
                if name.lowercased().hasSuffix(".png"), fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue { files.append(full) }
                else { skipped += 1 }
            }
            return files.sorted()
        }
        let top = try subfolders(root)
        let hasSplit = top.contains("train") && (top.contains("val") || top.contains("validation"))
        if hasSplit {
            let valName = top.contains("val") ? "val" : "validation"
            let trainRoot = (root as NSString).appendingPathComponent("train"), valRoot = (root as NSString).appendingPathComponent(valName)
            let classes = try subfolders(trainRoot)
            guard !classes.isEmpty else { throw DatasetError("\(trainRoot): no class folders") }
            let unknown = try subfolders(valRoot).filter { !classes.contains($0) }
            guard unknown.isEmpty else { throw DatasetError("\(valRoot): classes \(unknown) do not exist under train/") }
            var samples: [Sample] = [], train: [Int] = [], val: [Int] = []
            for (part, partRoot) in [(0, trainRoot), (1, valRoot)] {
                for (label, c) in classes.enumerated() {
                    for f in try pngs((partRoot as NSString).appendingPathComponent(c)) {
                        (part == 0 ? { train.append(samples.count) } : { val.append(samples.count) })()
                        samples.append(Sample(path: f, label: label, group: nil))
                    }
                }
            }
            guard !train.isEmpty, !val.isEmpty else { throw DatasetError("\(root): train/ or \(valName)/ holds no PNG images") }
            return (LabeledDataset(name: (root as NSString).lastPathComponent, classNames: classes, samples: samples, skippedFiles: skipped),
                    (train, val))
        }
        let classes = top
        guard classes.count >= 2 else { throw DatasetError("\(root): needs at least two class folders (root/CLASS/*.png), found \(classes.count)") }
        var samples: [Sample] = []
        for (label, c) in classes.enumerated() {
            let files = try pngs((root as NSString).appendingPathComponent(c))
            guard !files.isEmpty else { throw DatasetError("\(root)/\(c): no PNG images") }
            samples += files.map { Sample(path: $0, label: label, group: nil) }
        }
        return (LabeledDataset(name: (root as NSString).lastPathComponent, classNames: classes, samples: samples, skippedFiles: skipped), nil)
    }

    /// The names in folder `path`, read with readdir so that nothing is lost on the way: a name that is not
    /// valid UTF-8 (a Latin-1 `cläss`, which Foundation's listing drops) is refused, naming it with its bytes
    /// escaped — a class or an image is never left out silently.
    static func entries(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }  // e.g. a class with no folder under val/
            throw DatasetError("\(path): cannot list (\(String(cString: strerror(errno))))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            guard let name = String(validating: bytes, as: UTF8.self) else {
                let escaped = bytes.map { $0 < 0x80 && $0 >= 0x20 ? String(UnicodeScalar($0)) : String(format: "\\x%02X", $0) }.joined()
                throw DatasetError("\(path)/\(escaped): the name is not valid UTF-8; rename it (tlab does not leave files or classes out silently)")
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// A CSV manifest with lines `path,label[,group]` (a header line starting with `path` is skipped; paths
    /// are relative to the manifest's folder, and made absolute). Classes are the sorted distinct labels.
    public static func csvManifest(path: String) throws -> LabeledDataset {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw DatasetError("\(path): cannot read") }
        let base = (FilePath.absolute(path) as NSString).deletingLastPathComponent
        var rows: [(String, String, String?)] = []
        var firstLine: [String: Int] = [:]
        for (n, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || (n == 0 && line.lowercased().hasPrefix("path")) { continue }
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == 2 || f.count == 3, !f[0].isEmpty, !f[1].isEmpty else {
                throw DatasetError("\(path):\(n + 1): expected `path,label[,group]`, got `\(line)`")
            }
            let file = f[0].hasPrefix("/") ? f[0] : FilePath.absolute((base as NSString).appendingPathComponent(f[0]))
            // The same image twice could land in training and validation both: refused, naming both lines.
            let key = (file as NSString).standardizingPath
            if let first = firstLine[key] {
                throw DatasetError("\(path):\(n + 1): \(f[0]) is listed again (first on line \(first)); remove the duplicate row")
            }
            firstLine[key] = n + 1
            rows.append((file, f[1], f.count == 3 && !f[2].isEmpty ? f[2] : nil))
        }
        let classes = Array(Set(rows.map(\.1))).sorted()
        guard classes.count >= 2 else { throw DatasetError("\(path): needs at least two classes, found \(classes.count)") }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($0.element, $0.offset) })
        return LabeledDataset(name: ((path as NSString).lastPathComponent as NSString).deletingPathExtension,
                              classNames: classes, samples: rows.map { Sample(path: $0.0, label: index[$0.1]!, group: $0.2) })
    }
}
