import ArgumentParser

@main
struct TLab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tlab",
        abstract: "A transfer-learning workbench for the terminal.",
        subcommands: [Bench.self, Demo.self])
}
