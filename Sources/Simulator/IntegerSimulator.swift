import FixedPoint
import Foundation
import QBin

/// Executes a `.qbin` model with integer arithmetic only (`docs/qbin-format.md`, section 5).
///
/// Every activation is held as `Int32` values that always lie within its element type; weights are
/// unpacked (and, for the fast kernels, packed into GEMM panels) once, at init. Float appears only at
/// the edges: `run(input:batch:)` quantizes the input (`round(x / scale) + zp`, in Float, ties away
/// from zero, clamped to the type) and dequantizes the outputs (`scale * (q - zp)`).
public final class IntegerSimulator {
    public let model: QModel
    public let rounding: RoundingProfile
    /// Samples per internal pass; larger batches run in chunks of this many.
    public let maxBatch: Int
    /// Threads the fast kernels split rows over (one chunk per thread); 1 is single-threaded.
    public var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    /// Samples per pass when nothing observes the ops (at most `maxBatch`, at least 1): small enough that
    /// a pass's activations stay in the core's L2 cache.
    public var samplesPerPass = 8
    /// Per sample (no batch axis).
    public var inputShape: [Int] { model.tensors[model.inputs[0]].shape }
    public var outputShapes: [[Int]] { model.outputs.map { model.tensors[$0].shape } }

    private let layers: [any IntegerLayer]
    private let inputTensor: QTensor
    /// Per op, the activations no later op reads (`QModel.releasedAfterOp`): a pass holds only the live set.
    private let releasedAfterOp: [[Int]]

    /// Builds every layer, unpacking the weights once. `reference` runs the scalar reference kernels only.
    public init(model: QModel, rounding: RoundingProfile, maxBatch: Int = 32, reference: Bool = false) throws(SimulatorError) {
        do { try model.validate() } catch { throw .qbin(error) }
        guard model.inputs.count == 1 else {
            throw .invalidModel("the simulator runs models with one graph input, this one has \(model.inputs.count)")
        }
        for t in model.tensors where !t.isConstant && t.zeroPoints.count != 1 {
            throw .invalidModel("activation '\(t.name)' has \(t.zeroPoints.count) scales; activations must be quantized per tensor")
        }
        self.model = model
        self.rounding = rounding
        self.maxBatch = Swift.max(1, maxBatch)
        inputTensor = model.tensors[model.inputs[0]]
        let builder = LayerBuilder(model: model, profile: rounding, reference: reference)
        var layers: [any IntegerLayer] = []
        for (index, op) in model.ops.enumerated() { layers.append(try builder.layer(for: op, index: index)) }
        self.layers = layers
        releasedAfterOp = model.releasedAfterOp()
    }

    /// Reads the `.qbin` file at `path` (with `QBinReader`, which checks it) and builds the simulator.
    public convenience init(path: String, rounding: RoundingProfile, maxBatch: Int = 32) throws(SimulatorError) {
        let model: QModel
        do { model = try QBinReader.read(path: path) } catch { throw .qbin(error) }
        try self.init(model: model, rounding: rounding, maxBatch: maxBatch)
    }

    /// Float in (quantized with the input tensor's scale and zero point, round half away from zero,
    /// clamped to its type), float out (each output dequantized with its own parameters), `batch` samples.
    public func run(input: UnsafeBufferPointer<Float>, batch: Int) -> [[Float]] {
        let count = inputTensor.elementCount
        precondition(input.count >= batch * count, "run: \(input.count) floats for \(batch) samples of \(count)")
        let quantized = (0..<batch * count).map { inputTensor.quantizeEdge(input[$0]) }
        let outputs = runQuantized(input: quantized, batch: batch, observe: nil)
        return zip(model.outputs, outputs).map { index, values in
            let t = model.tensors[index]
            return values.map { t.dequantizeEdge($0) }
        }
    }

    /// Integer in (values clamped to the input type), integer out; `observe(opIndex, outputTensorIndex, values)`
    /// sees every op's output, all samples of the current pass (up to `maxBatch`), for per-layer comparison.
    ///
    /// Without `observe`, a batch of at least two samples per thread is split by samples: each thread
    /// runs its share through the whole network on its own, `samplesPerPass` at a time, so the threads
    /// meet once per call instead of once per op and a pass's activations stay in cache. With `observe`
    /// (or a smaller batch) every op splits its rows over the threads. The results are the same either
    /// way: every sample's arithmetic is independent of the others'.
    public func runQuantized(input: [Int32], batch: Int, observe: ((Int, Int, UnsafeBufferPointer<Int32>) -> Void)?) -> [[Int32]] {
        let count = inputTensor.elementCount
        precondition(input.count == batch * count, "runQuantized: \(input.count) values for \(batch) samples of \(count)")
        let lower = Int32(inputTensor.type.minValue), upper = Int32(clamping: inputTensor.type.maxValue)
        let clamped = input.map { Swift.min(Swift.max($0, lower), upper) }
        let workers = Swift.min(Swift.max(threads, 1), batch / 2)
        let perPass = Swift.max(1, Swift.min(maxBatch, samplesPerPass))
        guard observe == nil, workers > 1 else {
            let size = observe == nil && threads <= 1 ? perPass : maxBatch
            return passes(clamped, samples: 0..<batch, size: size, threads: threads, observe: observe)
        }
        // One slot per worker, each written by its worker only; `clamped` is only read.
        let slots = UnsafeMutablePointer<[[Int32]]>.allocate(capacity: workers)
        slots.initialize(repeating: [], count: workers)
        defer { slots.deinitialize(count: workers); slots.deallocate() }
        parallelChunks(workers, threads: workers) { range in
            for worker in range {
                let samples = (batch * worker / workers)..<(batch * (worker + 1) / workers)
                slots[worker] = passes(clamped, samples: samples, size: perPass, threads: 1, observe: nil)
            }
        }
        var results = model.outputs.map { _ in [Int32]() }
        for worker in 0..<workers {
            for i in results.indices { results[i].append(contentsOf: slots[worker][i]) }
        }
        return results
    }

    /// `samples` of `input` through the network, `size` samples per pass; the outputs in order.
    private func passes(_ input: [Int32], samples: Range<Int>, size: Int, threads: Int,
                        observe: ((Int, Int, UnsafeBufferPointer<Int32>) -> Void)?) -> [[Int32]] {
        let count = inputTensor.elementCount
        var results = model.outputs.map { _ in [Int32]() }
        var first = samples.lowerBound
        while first < samples.upperBound {
            let n = Swift.min(size, samples.upperBound - first)
            let outputs = pass(Array(input[(first * count)..<((first + n) * count)]), batch: n, threads: threads, observe: observe)
            for i in results.indices { results[i].append(contentsOf: outputs[i]) }
            first += n
        }
        return results
    }

    /// One pass over at most `maxBatch` samples; activation buffers are allocated per pass and freed
    /// after their last reader.
    private func pass(_ input: [Int32], batch: Int, threads: Int, observe: ((Int, Int, UnsafeBufferPointer<Int32>) -> Void)?) -> [[Int32]] {
        var buffers = [[Int32]?](repeating: nil, count: model.tensors.count)
        buffers[model.inputs[0]] = input
        for (index, op) in model.ops.enumerated() {
            let outIndex = op.outputs[0]
            // Not zero-filled: every layer writes each of its output values.
            var out = [Int32](unsafeUninitializedCapacity: batch * model.tensors[outIndex].elementCount) { _, count in
                count = batch * model.tensors[outIndex].elementCount
            }
            let activationInputs = op.kind.hasConstantInputs ? [op.inputs[0]] : op.inputs
            withBuffers(activationInputs.map { buffers[$0]! }) { inputs in
                out.withUnsafeMutableBufferPointer { o in
                    layers[index].run(inputs: inputs, output: o, batch: batch, threads: threads)
                }
            }
            if let observe { out.withUnsafeBufferPointer { observe(index, outIndex, $0) } }
            buffers[outIndex] = out
            for t in releasedAfterOp[index] { buffers[t] = nil }
        }
        return model.outputs.map { buffers[$0]! }
    }
}

/// Calls `body` with a buffer pointer for each array (valid for the duration of the call).
private func withBuffers<R>(_ arrays: [[Int32]], _ body: ([UnsafeBufferPointer<Int32>]) -> R) -> R {
    func step(_ i: Int, _ acc: [UnsafeBufferPointer<Int32>]) -> R {
        if i == arrays.count { return body(acc) }
        return arrays[i].withUnsafeBufferPointer { step(i + 1, acc + [$0]) }
    }
    return step(0, [])
}
