import ArgumentParser
import FixedPoint
import FloatEngine
import QConvertKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on an HDF5 dataset of inputs and write its outputs.",
        discussion: "A .qbin model runs on the integer-only simulator: inputs are quantized, the graph runs in integers, outputs are dequantized (docs/inspect-qbin-json.md).")

    @Argument(help: "A Keras .h5 model or a .qbin file (recognised by its magic bytes).")
    var model: String

    @Option(help: "Architecture JSON (model.to_json()) of a Keras 3 .weights.h5 model; default: <stem>.json, <stem>.config.json or config.json beside it.")
    var config: String?
    @Option(help: "HDF5 file holding the inputs (N x H x W x C, float or integer).")
    var input: String

    @Option(help: "HDF5 file to write; gets /outputs (N x ...) float32.")
    var output: String

    @Option(help: "Name of the inputs dataset.")
    var dataset = "inputs"

    @Option(help: "Samples per batch (1...4096).")
    var batchSize = 32

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Flag(help: ".qbin only: also write /outputs_int, the int32 quantized outputs, with scale and zero_point attributes.")
    var raw = false

    @Option(help: ".qbin only: fixed-point rounding of requantization, gemmlowp or single: overrides the profile the file records (docs/numerics.md).")
    var rounding: RoundingProfile?
    @Option(help: "Memory budget, e.g. 4G or 512M (default: half of physical memory); larger needs are refused with exit 2.") var maxMemory: String?

    func validate() throws {
        guard (1...4096).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 1 and 4096, got \(batchSize)")
        }
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256, got \(threads)")
        }
        try checkMemoryOption(maxMemory)
        if let clash = OutputClash.find(outputs: [("--output", output)], inputs: [("the model", model), ("--input", input)] + (config.map { [("--config", $0)] } ?? [])) {
            throw ValidationError(clash)
        }
        if raw || rounding != nil, ModelFileKind.detect(path: model) != .qbin {
            let option = raw ? "--raw" : "--rounding"
            throw ValidationError("\(option) applies to .qbin models only (the integer simulator); \(model) is not a .qbin file")
        }
    }

    func run() throws {
        Signals.install()
        applyMemoryOption(maxMemory)
        let bar = ProgressBar(label: "run")
        let summary: RunSummary
        if ModelFileKind.detect(path: model) == .qbin {
            var job = QBinRunJob(modelPath: model, inputPath: input, outputPath: output)
            job.dataset = dataset
            job.batchSize = batchSize
            job.rounding = rounding
            job.writeRaw = raw
            job.threads = threads
            summary = try reportingErrors { () throws(QConvertError) in try job.run(progress: bar.update) }
        } else {
            if let threads { Parallel.threadCount = threads }
            var job = RunJob(modelPath: model, inputPath: input, outputPath: output)
            job.configPath = config
            job.dataset = dataset
            job.batchSize = batchSize
            summary = try reportingErrors { () throws(QConvertError) in try job.run(progress: bar.update) }
        }
        bar.finish()
        if let note = summary.roundingNote { Terminal.printError(note) }
        Terminal.printError("wrote \(summary.samples) outputs of shape [\(summary.outputShape.map(String.init).joined(separator: ","))] to \(output)")
    }
}
