import XCTest
import ImageData

final class FolderDatasetTests: XCTestCase {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("tlab-folders-\(getpid())")
    override func tearDown() { try? FileManager.default.removeItem(at: root) }

    func write(_ rel: String) throws {
        let url = root.appendingPathComponent(rel)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let png = try PNGCodec.encode(width: 2, height: 2, layout: .gray8, samples: [0, 64, 128, 255])
        try Data(png).write(to: url)
    }

    func testClassFoldersAndPredefinedSplit() throws {
        for f in ["cats/a.png", "cats/b.png", "dogs/c.png", "dogs/notes.txt"] where f.hasSuffix(".png") { try write("flat/" + f) }
        let (flat, noSplit) = try LabeledDataset.imageFolder(root: root.appendingPathComponent("flat").path)
        XCTAssertEqual(flat.classNames, ["cats", "dogs"]); XCTAssertEqual(flat.labels, [0, 0, 1]); XCTAssertNil(noSplit)

        for f in ["train/ok/1.png", "train/ok/2.png", "train/bad/3.png", "val/ok/4.png", "val/bad/5.png"] { try write("split/" + f) }
        let (d, split) = try LabeledDataset.imageFolder(root: root.appendingPathComponent("split").path)
        XCTAssertEqual(d.classNames, ["bad", "ok"])
        XCTAssertEqual(split?.train.count, 3); XCTAssertEqual(split?.validation.count, 2)
        XCTAssertEqual(split?.validation.map { d.samples[$0].path.hasSuffix(".png") }, [true, true])
        XCTAssertEqual(Set(split!.train).intersection(split!.validation), [])
    }

    /// Datasets named by a relative path record absolute sample paths, so runs resolve them from anywhere.
    func testSamplePathsAreAbsoluteWhateverTheRootIsGivenAs() throws {
        for f in ["rel/a/1.png", "rel/b/2.png", "rel/img/3.png"] { try write(f) }
        try "img/3.png,x\na/1.png,y\n".write(to: root.appendingPathComponent("rel/set.csv"), atomically: true, encoding: .utf8)
        let before = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(root.path))
        defer { FileManager.default.changeCurrentDirectoryPath(before) }
        let folder = try LabeledDataset.imageFolder(root: "rel/../rel").dataset
        XCTAssertEqual(folder.samples.map(\.path).first, root.appendingPathComponent("rel/a/1.png").path)
        XCTAssertEqual(folder.name, "rel")
        let csv = try LabeledDataset.csvManifest(path: "rel/set.csv")
        XCTAssertEqual(csv.samples.map(\.path), [root.appendingPathComponent("rel/img/3.png").path, root.appendingPathComponent("rel/a/1.png").path])
        XCTAssertEqual(FilePath.absolute("/x/y"), "/x/y")
        XCTAssertEqual(FilePath.absolute("x/./y"), root.appendingPathComponent("x/y").path)
    }

    /// What is not a PNG in a class folder is left out and counted; hidden files are not counted.
    func testFilesThatAreNotImagesAreCounted() throws {
        for f in ["set/a/1.png", "set/a/2.PNG", "set/b/3.png", "set/train.png/x.png"] { try write(f) }
        let fm = FileManager.default
        for f in ["set/a/notes.txt", "set/b/4.jpg", "set/b/.DS_Store", "set/README.md"] {
            fm.createFile(atPath: root.appendingPathComponent(f).path, contents: Data("x".utf8))
        }
        try fm.createDirectory(at: root.appendingPathComponent("set/b/nested"), withIntermediateDirectories: true)
        let d = try LabeledDataset.imageFolder(root: root.appendingPathComponent("set").path).dataset
        XCTAssertEqual(d.classNames, ["a", "b", "train.png"])
        XCTAssertEqual(d.samples.count, 4)
        XCTAssertEqual(d.skippedFiles, 3, "notes.txt, 4.jpg and the nested folder; not .DS_Store, not the root's README")
    }

    func testCSVManifestWithGroupsAndErrors() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let csv = root.appendingPathComponent("set.csv")
        try "path,label,group\nimg/1.png,crack,mono\nimg/2.png,ok,poly\n/abs/3.png,ok,\n".write(to: csv, atomically: true, encoding: .utf8)
        let d = try LabeledDataset.csvManifest(path: csv.path)
        XCTAssertEqual(d.classNames, ["crack", "ok"]); XCTAssertEqual(d.labels, [0, 1, 1])
        XCTAssertEqual(d.samples.map(\.group), ["mono", "poly", nil])
        XCTAssertEqual(d.samples[0].path, root.appendingPathComponent("img/1.png").path); XCTAssertEqual(d.samples[2].path, "/abs/3.png")
        try "a.png,x\nb.png\n".write(to: csv, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LabeledDataset.csvManifest(path: csv.path)) { e in XCTAssertTrue("\(e)".contains("set.csv:2"), "\(e)") }
        XCTAssertThrowsError(try LabeledDataset.imageFolder(root: root.appendingPathComponent("absent").path)) { e in
            XCTAssertTrue("\(e)".contains("no such folder"), "\(e)")
        }
    }
}
