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

    let layers: [any IntegerLayer]
    /// `layers` for passes nothing observes: max pools moved before a conv's requantization or a
    /// channelAffine (`ConvPoolFusion`).
    let unobservedLayers: [any IntegerLayer]
    private let inputTensor: QTensor
    private let outputTensors: [QTensor]
    /// Where each activation of a pass lives (slots shared by tensors whose lives do not overlap).
    private let plan: ActivationPlan
    /// Arenas of finished calls, for the next call's workers (guarded by `arenaLock`).
    private var spareArenas: [ActivationArena] = []
    private let arenaLock = NSLock()
    private static let maxSpareArenas = 4

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
        unobservedLayers = reference ? layers : ConvPoolFusion.unobservedLayers(layers, model: model)
        outputTensors = model.outputs.map { model.tensors[$0] }
        plan = ActivationPlan(model: model, releasedAfterOp: model.releasedAfterOp())
    }

    /// Reads the `.qbin` file at `path` (with `QBinReader`, which checks it) and builds the simulator.
    public convenience init(path: String, rounding: RoundingProfile, maxBatch: Int = 32) throws(SimulatorError) {
        let model: QModel
        do { model = try QBinReader.read(path: path) } catch { throw .qbin(error) }
        try self.init(model: model, rounding: rounding, maxBatch: maxBatch)
    }

    /// Float in (quantized with the input tensor's scale and zero point, round half away from zero,
    /// clamped to its type: `QTensor.quantizeEdge`), float out (each output dequantized with its own
    /// parameters: `QTensor.dequantizeEdge`), `batch` samples. Each worker quantizes its own samples and
    /// dequantizes its outputs straight into the results, so the edges run in parallel with the rest.
    public func run(input: UnsafeBufferPointer<Float>, batch: Int) -> [[Float]] {
        let count = inputTensor.elementCount
        precondition(input.count >= batch * count, "run: \(input.count) floats for \(batch) samples of \(count)")
        return execute(batch: batch, observe: nil, fill: { samples, destination in
            let source = UnsafeBufferPointer(rebasing: input[(samples.lowerBound * count)..<(samples.upperBound * count)])
            inputTensor.quantizeEdgeFast(source, into: destination)
        }, emit: { output, values, destination in
            outputTensors[output].dequantizeEdge(values, into: destination)
        })
    }

    /// Integer in (values clamped to the input type), integer out; `observe(opIndex, outputTensorIndex, values)`
    /// sees every op's output, all samples of the current pass (up to `maxBatch`), for per-layer comparison
    /// (`values` is valid during the call only: the pass's buffers are reused).
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
        return input.withUnsafeBufferPointer { input in
            execute(batch: batch, observe: observe, fill: { samples, destination in
                guard let source = input.baseAddress, let target = destination.baseAddress else { return }
                let from = source + samples.lowerBound * count
                for i in 0..<destination.count { target[i] = Swift.min(Swift.max(from[i], lower), upper) }
            }, emit: { _, values, destination in
                guard let source = values.baseAddress, let target = destination.baseAddress else { return }
                target.initialize(from: source, count: values.count)
            })
        }
    }

    /// Runs `batch` samples and returns the outputs, of any element type: per pass, `fill(samples, buffer)`
    /// writes the input values of those samples into the pass's input buffer, and `emit(output, values,
    /// destination)` turns the pass's values of one graph output into that output's results at the pass's
    /// sample offset. Both run in the worker that runs the pass.
    private func execute<Value>(batch: Int, observe: ((Int, Int, UnsafeBufferPointer<Int32>) -> Void)?,
                                fill: (Range<Int>, UnsafeMutableBufferPointer<Int32>) -> Void,
                                emit: (Int, UnsafeBufferPointer<Int32>, UnsafeMutableBufferPointer<Value>) -> Void) -> [[Value]] {
        let outputCounts = outputTensors.map(\.elementCount)
        return withUninitializedArrays(outputCounts.map { $0 * batch }) { (results: [UnsafeMutableBufferPointer<Value>]) in
            /// `samples` through the network, `size` samples per pass, in one arena.
            func passes(_ samples: Range<Int>, size: Int, threads: Int, observe: ((Int, Int, UnsafeBufferPointer<Int32>) -> Void)?) {
                guard !samples.isEmpty else { return }
                withArena(capacity: Swift.min(size, samples.count)) { arena in
                    var first = samples.lowerBound
                    while first < samples.upperBound {
                        let n = Swift.min(size, samples.upperBound - first)
                        arena.bind(samples: n)
                        fill(first..<(first + n), arena.buffer(model.inputs[0], samples: n))
                        pass(arena, batch: n, threads: threads, observe: observe)
                        for (i, tensor) in model.outputs.enumerated() {
                            let destination = results[i][(first * outputCounts[i])..<((first + n) * outputCounts[i])]
                            emit(i, UnsafeBufferPointer(arena.buffer(tensor, samples: n)), UnsafeMutableBufferPointer(rebasing: destination))
                        }
                        first += n
                    }
                }
            }
            let workers = Swift.min(Swift.max(threads, 1), batch / 2)
            let perPass = Swift.max(1, Swift.min(maxBatch, samplesPerPass))
            guard observe == nil, workers > 1 else {
                passes(0..<batch, size: observe == nil && threads <= 1 ? perPass : maxBatch, threads: threads, observe: observe)
                return
            }
            // Each worker writes only its own samples' results; everything else is only read.
            parallelChunks(workers, threads: workers) { range in
                for worker in range {
                    passes((batch * worker / workers)..<(batch * (worker + 1) / workers), size: perPass, threads: 1, observe: nil)
                }
            }
        }
    }

    /// One pass of `batch` samples (the arena bound to `batch`, its input buffer filled): every op in
    /// order, into the arena's buffers.
    private func pass(_ arena: ActivationArena, batch: Int, threads: Int, observe: ((Int, Int, UnsafeBufferPointer<Int32>) -> Void)?) {
        let inputs = arena.inputs, outputs = arena.outputs
        let layers = observe == nil ? unobservedLayers : self.layers
        for index in layers.indices {
            // Not zero-filled: every layer writes each of its output values.
            layers[index].run(inputs: inputs[index], output: outputs[index], batch: batch, threads: threads)
            if let observe { observe(index, plan.opOutputs[index], UnsafeBufferPointer(outputs[index])) }
        }
    }

    /// Runs `body` with an arena for at least `capacity` samples: a spare one, or a new one. Arenas for
    /// at most `samplesPerPass` samples are kept for the next call (at most `maxSpareArenas`); larger ones
    /// (observed passes of up to `maxBatch`) are freed, so a big model holds no more between calls than
    /// a per-pass working set.
    private func withArena(capacity: Int, _ body: (ActivationArena) -> Void) {
        arenaLock.lock()
        let spare = spareArenas.firstIndex { $0.capacity >= capacity }.map { spareArenas.remove(at: $0) }
        arenaLock.unlock()
        let arena = spare ?? ActivationArena(plan: plan, model: model, capacity: capacity)
        body(arena)
        guard arena.capacity <= Swift.max(1, Swift.min(maxBatch, samplesPerPass)) else { return }
        arenaLock.lock()
        if spareArenas.count < Self.maxSpareArenas { spareArenas.append(arena) }
        arenaLock.unlock()
    }
}

/// Arrays of `counts[i]` elements each, written by `body` through their (uninitialized) buffers: `body`
/// must write every element.
private func withUninitializedArrays<T>(_ counts: [Int], _ body: ([UnsafeMutableBufferPointer<T>]) -> Void) -> [[T]] {
    func build(_ i: Int, _ buffers: [UnsafeMutableBufferPointer<T>]) -> [[T]] {
        if i == counts.count { body(buffers); return [] }
        var rest: [[T]] = []
        let array = [T](unsafeUninitializedCapacity: counts[i]) { buffer, initialized in
            rest = build(i + 1, buffers + [UnsafeMutableBufferPointer(rebasing: buffer[0..<counts[i]])])
            initialized = counts[i]
        }
        return [array] + rest
    }
    return build(0, [])
}
