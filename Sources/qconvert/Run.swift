import ArgumentParser
import FloatEngine
import QConvertKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on an HDF5 dataset of inputs and write its outputs.")

    @Argument(help: "A Keras .h5 model.")
    var model: String

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

    func validate() throws {
        guard (1...4096).contains(batchSize) else {
            throw ValidationError("--batch-size must be between 1 and 4096, got \(batchSize)")
        }
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256, got \(threads)")
        }
    }

    func run() throws {
        if let threads { Parallel.threadCount = threads }
        var job = RunJob(modelPath: model, inputPath: input, outputPath: output)
        job.dataset = dataset
        job.batchSize = batchSize
        let bar = ProgressBar(label: "run")
        let summary = try reportingErrors { () throws(QConvertError) in try job.run(progress: bar.update) }
        bar.finish()
        Terminal.printError("wrote \(summary.samples) outputs of shape [\(summary.outputShape.map(String.init).joined(separator: ","))] to \(output)")
    }
}
