import FixedPoint
import HDF5
import Ops
import QBin
import Simulator

/// `qconvert run MODEL.qbin`: streams the samples of an HDF5 dataset through the integer simulator
/// and writes `/outputs` (N x output shape, float32) to a new HDF5 file, through a temporary file.
///
/// Float appears only at the edges, as in `IntegerSimulator.run(input:batch:)`: each input value is
/// quantized `q = clamp(round(x / s_in) + z_in)` (ties away from zero), the graph runs in integers,
/// and the output is dequantized `y = s_out * (q - z_out)`. When the model's metadata has
/// `output.activation = softmax`, softmax is then applied to `y` in float (`OutputActivation`).
/// With `writeRaw`, `/outputs_int` (int32) also holds `q` itself, with attributes `scale` (float32),
/// `zero_point` (int32) and `type` (`s8`, `u4`, ...) so that `y = scale * (q - zero_point)`.
public struct QBinRunJob {
    public var modelPath: String
    public var inputPath: String
    public var outputPath: String
    public var dataset: String = "inputs"
    public var batchSize: Int = 32
    /// Overrides the profile the file records (nil: the file's, `gemmlowp` for a 1.0 file).
    public var rounding: RoundingProfile?
    public var writeRaw = false
    /// Threads of the simulator's fast kernels; nil keeps its default (all cores).
    public var threads: Int?

    public init(modelPath: String, inputPath: String, outputPath: String) {
        self.modelPath = modelPath; self.inputPath = inputPath; self.outputPath = outputPath
    }

    /// Runs the job; `progress(done, total)` is called after every batch.
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws(QConvertError) -> RunSummary {
        let (simulator, choice) = try Self.loadSimulator(path: modelPath, rounding: rounding, maxBatch: batchSize)
        if let threads { simulator.threads = threads }
        let activation: OutputActivation?
        do { activation = try OutputActivation.of(simulator.model) } catch { throw .qbin(path: modelPath, error) }
        let samples = try SampleFile(path: inputPath, dataset: dataset, expectedShape: simulator.inputShape)
        let inputTensor = simulator.model.tensors[simulator.model.inputs[0]]
        let outputTensor = simulator.model.tensors[simulator.model.outputs[0]]
        let outputShape = outputTensor.shape
        let outputSize = outputTensor.elementCount

        var shapes = ["outputs": [samples.count] + outputShape]
        if writeRaw { shapes["outputs_int"] = [samples.count] + outputShape }
        try AtomicOutput.write(to: outputPath, verify: { [shapes] temporary in
            try AtomicOutput.verifyHDF5(temporary, destination: outputPath, shapes: shapes)
        }) { temporary in
            let file = try HDF5File.create(temporary)
            let chunkRows = max(1, min(batchSize, samples.count))
            let outputs = try file.root.createDataset("outputs", shape: [samples.count] + outputShape, type: .float32,
                                                      chunkRows: chunkRows)
            var rawOutputs: HDF5Dataset?
            if writeRaw {
                let raw = try file.root.createDataset("outputs_int", shape: [samples.count] + outputShape, type: .int32,
                                                      chunkRows: chunkRows)
                try raw.setFloatAttribute("scale", [outputTensor.scales[0]])
                try raw.setInt32Attribute("zero_point", [outputTensor.zeroPoints[0]])
                try raw.setStringAttribute("type", outputTensor.type.description)
                rawOutputs = raw
            }
            var batch = [Float](repeating: 0, count: batchSize * samples.sampleSize)
            var dequantized = [Float](repeating: 0, count: batchSize * outputSize)
            var start = 0
            while start < samples.count {
                let n = min(batchSize, samples.count - start)
                try batch.withUnsafeMutableBufferPointer { buffer in
                    try samples.read(start..<start + n, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<n * samples.sampleSize]))
                }
                let quantized = Self.quantize(batch[0..<n * samples.sampleSize], as: inputTensor)
                let result = simulator.runQuantized(input: quantized, batch: n, observe: nil)[0]
                try dequantized.withUnsafeMutableBufferPointer { out in
                    let rows = UnsafeMutableBufferPointer(rebasing: out[0..<n * outputSize])
                    Self.dequantize(result, as: outputTensor, into: rows)
                    activation?.apply(rows, width: outputShape.last ?? 1)
                    try outputs.writeFloats(rows: start..<start + n, from: UnsafeBufferPointer(rows))
                }
                if let rawOutputs {
                    try result.withUnsafeBufferPointer { try rawOutputs.writeInt32s(rows: start..<start + n, from: $0) }
                }
                start += n
                progress(start, samples.count)
            }
            try file.flush()  // a write lost to a full disk fails here, before the rename
        }
        return RunSummary(samples: samples.count, outputShape: outputShape, roundingNote: choice.note)
    }

    /// Reads and checks the `.qbin` at `path` and builds the simulator with the file's rounding profile
    /// or `rounding`'s override, naming the file in any error.
    static func loadSimulator(path: String, rounding: RoundingProfile?,
                              maxBatch: Int) throws(QConvertError) -> (IntegerSimulator, RoundingChoice) {
        let model: QModel
        OpRegistry.install()
        do { model = try QBinReader.read(path: path, maxBytes: MemoryBudget.bytes) } catch { throw .qbin(path: path, error) }
        try MemoryBudget.check(MemoryBudget.simulatorPeak(model, batch: maxBatch), for: "the integer simulator at --batch-size \(maxBatch)",
                               path: path, hint: "lower --batch-size")
        let choice = RoundingChoice.resolve(model: model, override: rounding)
        do {
            return (try IntegerSimulator(model: model, rounding: choice.profile, maxBatch: maxBatch), choice)
        } catch .qbin(let e) {
            throw .qbin(path: path, e)
        } catch {
            throw .simulator(path: path, error)
        }
    }

    /// `q = clamp(round(x / s) + z, typeMin, typeMax)`, rounding half away from zero, NaN to `z`:
    /// the input edge of `IntegerSimulator.run(input:batch:)`, through the same kernel
    /// (`quantizeEdgeFast`, the active level's `qc_quantize_edge_f32` where it applies).
    static func quantize(_ values: ArraySlice<Float>, as tensor: QTensor) -> [Int32] {
        [Int32](unsafeUninitializedCapacity: values.count) { destination, initialized in
            values.withUnsafeBufferPointer { tensor.quantizeEdgeFast($0, into: destination) }
            initialized = values.count
        }
    }

    /// `y = s * (q - z)`: the output edge of `IntegerSimulator.run(input:batch:)`.
    static func dequantize(_ values: [Int32], as tensor: QTensor, into out: UnsafeMutableBufferPointer<Float>) {
        values.withUnsafeBufferPointer { tensor.dequantizeEdge(UnsafeBufferPointer(rebasing: $0[0..<out.count]), into: out) }
    }
}
