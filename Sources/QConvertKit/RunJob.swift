import FloatEngine
import HDF5
import QCore

/// `qconvert run`: streams the samples of an HDF5 dataset through a float model and writes
/// `/outputs` (N x output shape, float32) to a new HDF5 file.
public struct RunJob {
    public var modelPath: String
    /// Architecture JSON of a Keras 3 `.weights.h5` model (`--config`); nil: looked for beside it.
    public var configPath: String?
    public var inputPath: String
    public var outputPath: String
    public var dataset: String = "inputs"
    public var batchSize: Int = 32

    public init(modelPath: String, inputPath: String, outputPath: String) {
        self.modelPath = modelPath; self.inputPath = inputPath; self.outputPath = outputPath
    }

    /// Runs the job; `progress(done, total)` is called after every batch.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws(QConvertError) -> RunSummary {
        let model = try ModelLoader.load(path: modelPath, configPath: configPath)
        try MemoryBudget.check(MemoryBudget.floatPeak(model.graph, batch: batchSize), for: "the float model at --batch-size \(batchSize)",
                               path: modelPath, hint: "lower --batch-size")
        let executor: FloatExecutor
        do { executor = try FloatExecutor(graph: model.graph, maxBatch: batchSize) } catch { throw .graph(path: modelPath, error) }
        let samples = try SampleFile(path: inputPath, dataset: dataset, expectedShape: executor.inputShape)
        let outputShape = executor.outputShapes[0]
        let outputSize = outputShape.reduce(1, *)
        let shapes = ["outputs": [samples.count] + outputShape]
        try AtomicOutput.write(to: outputPath, verify: { temporary in
            try AtomicOutput.verifyHDF5(temporary, destination: outputPath, shapes: shapes)
        }) { temporary in
            let file = try HDF5File.create(temporary)
            let outputs = try file.root.createDataset("outputs", shape: [samples.count] + outputShape, type: .float32,
                                                      chunkRows: max(1, min(batchSize, samples.count)))
            var batch = [Float](repeating: 0, count: batchSize * samples.sampleSize)
            var start = 0
            while start < samples.count {
                let n = min(batchSize, samples.count - start)
                try batch.withUnsafeMutableBufferPointer { buffer in
                    try samples.read(start..<start + n, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<n * samples.sampleSize]))
                }
                let result = batch.withUnsafeBufferPointer { buffer in
                    executor.run(input: UnsafeBufferPointer(rebasing: buffer[0..<n * samples.sampleSize]), batch: n)
                }
                try result[0].withUnsafeBufferPointer { out in
                    try outputs.writeFloats(rows: start..<start + n, from: UnsafeBufferPointer(rebasing: out[0..<n * outputSize]))
                }
                start += n
                progress(start, samples.count)
            }
            try file.flush()  // a write lost to a full disk fails here, before the rename
        }
        return RunSummary(samples: samples.count, outputShape: outputShape)
    }
}

public struct RunSummary: Sendable {
    public var samples: Int
    public var outputShape: [Int]
    /// For a `.qbin`: says when the rounding profile is not the one the file records (`RoundingChoice`).
    public var roundingNote: String? = nil
}
