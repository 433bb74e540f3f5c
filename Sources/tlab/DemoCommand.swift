import ArgumentParser

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Headless demo (until the workbench exists).")
    func run() throws { print("demo") }
}
