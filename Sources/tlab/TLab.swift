import ArgumentParser

@main
struct TLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tlab",
        abstract: "A transfer-learning workbench for the terminal.",
        discussion: About.discussion, version: About.version,
        subcommands: [Open.self, Watch.self, ListBackbones.self, Import.self, Predict.self, Config.self, Features.self, Train.self, Runs.self, Compare.self, Eval.self, Bench.self, Demo.self],
        defaultSubcommand: Open.self)
}
