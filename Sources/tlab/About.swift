import Engine

/// What `tlab --version` and the top of `tlab --help` say.
enum About {
    /// tlab's release; the run log's format has its own version (`TrainingEvent.formatVersion`).
    static let version = "0.1.0"

    static let discussion = """
        \(TLabHome.rule) Here: \(TLabHome.path)
        """
}
