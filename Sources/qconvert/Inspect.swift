import ArgumentParser
import QConvertKit

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's layers, shapes, parameters and MACs, or a .qbin's ops, bits, scales and sizes.")

    @Argument(help: "A Keras .h5 model or a .qbin file (recognised by its magic bytes).")
    var model: String

    @Option(help: "Architecture JSON (model.to_json()) of a Keras 3 .weights.h5 model; default: <stem>.json, <stem>.config.json or config.json beside it.") var config: String?
    @Flag(help: "Print a JSON document instead of a table (schemas: docs/inspect-json.md, docs/inspect-qbin-json.md).")
    var json = false
    @Option(help: "Memory budget, e.g. 4G or 512M (default: half of physical memory); larger needs are refused with exit 2.") var maxMemory: String?

    func validate() throws { try checkMemoryOption(maxMemory) }

    func run() throws {
        applyMemoryOption(maxMemory)
        if ModelFileKind.detect(path: model) == .qbin {
            let summary = try reportingErrors { () throws(QConvertError) in try QBinSummary.load(path: model) }
            print(json ? summary.json() : summary.table(), terminator: json ? "\n" : "")
            return
        }
        let loaded = try reportingErrors { () throws(QConvertError) in try ModelLoader.load(path: model, configPath: config) }
        let summary = ModelSummary(loaded)
        print(json ? summary.json() : summary.table(), terminator: json ? "\n" : "")
    }
}
