import FixedPoint
import QBin

/// The "quantized float emulation" of a `.qbin` model: the integer semantics of
/// `docs/qbin-format.md` (section 5.1) for every op, except that each fixed-point rescale
/// `requant(acc, multiplier, shift)` is replaced by the exact real ratio of the tensor scales,
///
///     q = clamp(zout + round(acc * s_x * s_w[c] / s_out))     (Double; round: nearest, ties away from zero)
///
/// and likewise `s_i / s_out` for add, subtract, concatenate and requantize, `s_0 * s_1 / s_out` for
/// multiply. This is what a float reference of the quantized model computes: it differs from the
/// integer simulator only by the runtime's rounding of `M = m * 2^(s - 31)` (at most 1 LSB per op,
/// see docs/numerics.md), so comparing the two separates quantization error from rounding error.
/// The `multiplier` / `shift` attributes are never read. Built for the `gemmlowp` profile, each rescale
/// also rounds first to the grid of its fixed-point right shift, as that runtime does (`RealRescale`);
/// every factor's significand is rounded to the multiplier's 31 bits. What remains between the two is
/// the Double product, exact ties, and add / subtract's int32 steps.
/// Accumulators are exact (Int64); pools,
/// padding, reshapes and lookup tables are integer ops, as in the runtime.
public final class QuantizedEmulator {
    public let model: QModel
    /// Samples per internal pass; larger batches run in chunks of this many (`observe` sees each pass).
    public let maxBatch: Int
    /// `.single`: one rounding per rescale; `.gemmlowp`: two, as that runtime rounds.
    public let rounding: RoundingProfile
    /// Per sample (no batch axis).
    public var inputShape: [Int] { inputTensor.shape }
    public var outputShapes: [[Int]] { model.outputs.map { model.tensors[$0].shape } }

    private let ops: [any EmulatedOp]
    private let inputTensor: QTensor
    /// Per op, the activations no later op reads (`QModel.releasedAfterOp`): a pass holds only the live set.
    private let releasedAfterOp: [[Int]]

    /// Validates `model` and builds every op, unpacking the weights once.
    public init(model: QModel, maxBatch: Int = 32, rounding: RoundingProfile = .single) throws(EmulationError) {
        do { try model.validate() } catch { throw .qbin(error) }
        guard model.inputs.count == 1 else {
            throw .invalidModel("the emulator runs models with one graph input, this one has \(model.inputs.count)")
        }
        for t in model.tensors where !t.isConstant && (t.scales.count != 1 || t.zeroPoints.count != 1) {
            throw .invalidModel("activation '\(t.name)' has \(t.scales.count) scales; activations must be quantized per tensor")
        }
        self.model = model
        self.maxBatch = Swift.max(1, maxBatch)
        self.rounding = rounding
        inputTensor = model.tensors[model.inputs[0]]
        let factory = OpFactory(model: model, doubleRounding: rounding == .gemmlowp)
        var ops: [any EmulatedOp] = []
        for (index, op) in model.ops.enumerated() { ops.append(try factory.op(for: op, index: index)) }
        self.ops = ops
        releasedAfterOp = model.releasedAfterOp()
    }

    /// Float in (quantized with the input tensor's scale and zero point, round half away from zero,
    /// clamped to its type), float out (each output dequantized, `scale * (q - zp)`), `batch` samples.
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

    /// Integer in (values clamped to the input type), integer out, like `IntegerSimulator.runQuantized`;
    /// `observe(opIndex, outputTensorIndex, values)` sees every op's output, all samples of the current
    /// pass (up to `maxBatch`).
    public func runQuantized(input: [Int32], batch: Int, observe: ((Int, Int, UnsafeBufferPointer<Int32>) -> Void)?) -> [[Int32]] {
        let count = inputTensor.elementCount
        precondition(input.count == batch * count, "runQuantized: \(input.count) values for \(batch) samples of \(count)")
        let lower = Int32(inputTensor.type.minValue), upper = Int32(clamping: inputTensor.type.maxValue)
        var results = model.outputs.map { _ in [Int32]() }
        var first = 0
        while first < batch {
            let n = Swift.min(maxBatch, batch - first)
            let slice = input[(first * count)..<((first + n) * count)].map { Swift.min(Swift.max($0, lower), upper) }
            let outputs = pass(slice, batch: n, observe: observe)
            for i in results.indices { results[i].append(contentsOf: outputs[i]) }
            first += n
        }
        return results
    }

    /// Runs op `index` alone on the given activation inputs (teacher forcing, for per-layer comparison
    /// with another executor): `inputs` are the op's activation inputs in order (its constants are its
    /// own), each holding `batch` samples; returns its output, `batch` samples.
    public func runOp(_ index: Int, inputs: [[Int32]], batch: Int) -> [Int32] {
        let op = model.ops[index]
        let activations = activationInputs(of: op)
        precondition(inputs.count == activations.count, "runOp: op \(index) '\(op.name)' takes \(activations.count) activation inputs, got \(inputs.count)")
        for (values, tensor) in zip(inputs, activations) {
            let expected = batch * model.tensors[tensor].elementCount
            precondition(values.count == expected, "runOp: op \(index) '\(op.name)': \(values.count) values for \(batch) samples of '\(model.tensors[tensor].name)' (\(expected))")
        }
        return execute(index, inputs, batch: batch)
    }

    // MARK: Execution

    private func activationInputs(of op: QOp) -> [Int] { op.kind.hasConstantInputs ? [op.inputs[0]] : op.inputs }

    private func execute(_ index: Int, _ inputs: [[Int32]], batch: Int) -> [Int32] {
        var out = [Int32](repeating: 0, count: batch * model.tensors[model.ops[index].outputs[0]].elementCount)
        withBuffers(inputs) { buffers in
            out.withUnsafeMutableBufferPointer { ops[index].run(inputs: buffers, output: $0, batch: batch) }
        }
        return out
    }

    /// One pass over at most `maxBatch` samples; each activation is freed after its last reader.
    private func pass(_ input: [Int32], batch: Int, observe: ((Int, Int, UnsafeBufferPointer<Int32>) -> Void)?) -> [[Int32]] {
        var buffers = [[Int32]?](repeating: nil, count: model.tensors.count)
        buffers[model.inputs[0]] = input
        for (index, op) in model.ops.enumerated() {
            let outIndex = op.outputs[0]
            let out = execute(index, activationInputs(of: op).map { buffers[$0]! }, batch: batch)
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
