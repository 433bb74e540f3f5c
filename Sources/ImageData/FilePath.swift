import Foundation

/// Dataset paths are made absolute when a dataset is loaded, so that the sample paths a run records
/// (split.json, validation.json) resolve from any working directory.
public enum FilePath {
    /// `path` made absolute against the current directory (`~` expanded, `.` and `..` removed); an absolute
    /// path is returned as it is.
    public static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        return expanded.hasPrefix("/") ? expanded : URL(fileURLWithPath: expanded).standardizedFileURL.path
    }
}
