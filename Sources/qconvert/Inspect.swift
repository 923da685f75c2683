import ArgumentParser
import QConvertKit

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's layers, shapes, parameters and MACs.")

    @Argument(help: "A Keras .h5 model.")
    var model: String

    @Flag(help: "Print a JSON document instead of a table (schema: docs/inspect-json.md).")
    var json = false

    func run() throws {
        let loaded = try reportingErrors { () throws(QConvertError) in try ModelLoader.load(path: model) }
        let summary = ModelSummary(loaded)
        print(json ? summary.json() : summary.table(), terminator: json ? "\n" : "")
    }
}
