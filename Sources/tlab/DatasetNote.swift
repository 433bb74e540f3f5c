import Foundation

/// What `train` and `features` say when an image folder held files that are not PNG images.
func skippedFilesNote(_ count: Int, dataset: String) -> String {
    "note: \(count) file\(count == 1 ? "" : "s") that \(count == 1 ? "is" : "are") not PNG images \(count == 1 ? "was" : "were") left out of \(dataset)"
}
