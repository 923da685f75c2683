import Emulation
import FloatEngine
import Foundation
import QBin
import QCore
import Simulator

/// What running the written model on evaluation samples showed.
struct Evaluation {
    var samples = 0
    /// Per op of the model.
    var layers: [LayerComparison]
    /// `samples x outputSize`: the float model (nil without one), the simulator (dequantized, edge softmax applied).
    var floatOutputs: [Float]?
    var quantizedOutputs: [Float] = []
    /// Simulator vs emulation run end to end on the same quantized inputs (not teacher-forced).
    var endToEnd = LayerComparison()
    var outputSize: Int
    /// The float model under its grids' rounding noise (nil without a float model or draws).
    var noiseFloor: NoiseFloorMeter?
}

/// Runs evaluation samples through the float graph (when there is one), the integer simulator of the
/// written file, and the float emulation of the same model, and compares them layer by layer.
struct Evaluator {
    let simulator: IntegerSimulator
    let emulator: QuantizedEmulator
    /// The canonical float graph's executor and, per canonical node, the model tensor holding its value.
    var float: (executor: FloatExecutor, tensorForNode: [Int?])?
    /// Per float node, the per-channel amount the model's tensor holds less than the node's value (bias
    /// absorption moved it into the next layer's bias): subtracted before the layer comparison.
    var channelShifts: [Int: [Float]] = [:]
    /// Applied in float to the dequantized outputs (metadata `output.activation`).
    var outputSoftmax: Bool
    /// Noise-floor draws (0: not measured) and their seed.
    var noiseDraws = 0
    var noiseSeed: UInt64 = 0

    /// Bytes of per-layer values one evaluation pass may hold: the float model's value of every compared
    /// node (4 bytes per element) until the simulator's op reaches it. A pass takes `--batch-size`
    /// samples, or fewer where that would hold more (ResNet50 at 224 px: ~17 M values, ~68 MB per sample,
    /// so 3 per pass), so evaluation memory does not grow with the batch or the number of samples. Small models
    /// (the fixtures: < 1 MB per sample) keep whole batches, and their figures are unchanged.
    static let defaultLayerValueBudget = 256 << 20
    var layerValueBudget = Evaluator.defaultLayerValueBudget

    /// Samples per evaluation pass: `batchSize`, lowered so that the float values of the compared nodes
    /// (`floatBytesPerSample`) stay within `budget`; at least 1.
    static func passSize(batchSize: Int, floatBytesPerSample: Int, budget: Int) -> Int {
        max(1, min(batchSize, budget / max(floatBytesPerSample, 1)))
    }

    func evaluate(_ samples: any SampleSource, batchSize: Int, progress: (Int, Int) -> Void) throws(QConvertError) -> Evaluation {
        let model = simulator.model
        let outTensor = model.tensors[model.outputs[0]]
        let outputSize = outTensor.elementCount
        var evaluation = Evaluation(layers: [LayerComparison](repeating: LayerComparison(), count: model.ops.count),
                                    floatOutputs: float == nil ? nil : [], outputSize: outputSize)
        // The float node whose value each tensor holds (the last one: a fused ReLU after its producer).
        var nodeOfTensor: [Int: Int] = [:]
        if let float { for (n, t) in float.tensorForNode.enumerated() { if let t { nodeOfTensor[t] = n } } }
        if let float, noiseDraws > 0 {
            var steps = [Float?](repeating: nil, count: float.tensorForNode.count)
            // The input is quantized exactly as the simulator does it (below), not replaced by noise; ops
            // that only select or move their input's values add no rounding of their own.
            var rounds = Set(model.ops.indices.flatMap { model.ops[$0].outputs })
            for op in model.ops where Self.copiesValues(op, model) { op.outputs.forEach { rounds.remove($0) } }
            for (t, n) in nodeOfTensor where t != model.inputs[0] && rounds.contains(t) { steps[n] = model.tensors[t].scales[0] }
            evaluation.noiseFloor = NoiseFloorMeter(steps: steps, draws: noiseDraws, seed: noiseSeed)
        }
        let inputTensor = model.tensors[model.inputs[0]]
        let wanted = Set(nodeOfTensor.values)
        let floatBytes = nodeOfTensor.keys.reduce(0) { $0 + 4 * model.tensors[$1].elementCount }
        let passSize = Self.passSize(batchSize: batchSize, floatBytesPerSample: floatBytes, budget: layerValueBudget)
        let released = model.releasedAfterOp()
        var batch = [Float](repeating: 0, count: passSize * samples.sampleSize)
        var start = 0
        while start < samples.count {
            let n = min(passSize, samples.count - start)
            try batch.withUnsafeMutableBufferPointer { b throws(QConvertError) in
                try samples.read(start..<start + n, into: UnsafeMutableBufferPointer(rebasing: b[0..<n * samples.sampleSize]))
            }
            let input = Array(batch[0..<n * samples.sampleSize])
            let quantizedInput = input.map { inputTensor.quantizeEdge($0) }

            var floatValues: [Int: [Float]] = [:]
            if let float {
                let outputs = input.withUnsafeBufferPointer { x in
                    float.executor.run(input: x, batch: n) { node, values in
                        guard wanted.contains(node) else { return }
                        var copy = Array(values)
                        if let shift = channelShifts[node], !shift.isEmpty {
                            for i in copy.indices { copy[i] -= shift[i % shift.count] }
                        }
                        floatValues[node] = copy
                    }
                }
                evaluation.floatOutputs!.append(contentsOf: outputs[0])
                evaluation.noiseFloor?.add(executor: float.executor, input: quantizedInput.map { inputTensor.dequantizeEdge($0) },
                                           batch: n, clean: outputs[0], classes: outputSize)
            }

            var intValues: [Int: [Int32]] = [model.inputs[0]: quantizedInput]
            var layers = evaluation.layers
            let simOutputs = simulator.runQuantized(input: quantizedInput, batch: n) { opIndex, tensorIndex, values in
                let op = model.ops[opIndex]
                let activationInputs = op.kind.hasConstantInputs ? [op.inputs[0]] : op.inputs
                let emulated = emulator.runOp(opIndex, inputs: activationInputs.map { intValues[$0]! }, batch: n)
                layers[opIndex].addLSB(values, emulated)
                if let node = nodeOfTensor[tensorIndex], let f = floatValues[node] {
                    compare(f, values, model.tensors[tensorIndex], into: &layers[opIndex])
                    floatValues[node] = nil
                }
                intValues[tensorIndex] = Array(values)
                for t in released[opIndex] { intValues[t] = nil }
            }
            evaluation.layers = layers
            let emuOutputs = emulator.runQuantized(input: quantizedInput, batch: n, observe: nil)
            simOutputs[0].withUnsafeBufferPointer { evaluation.endToEnd.addLSB($0, emuOutputs[0]) }

            var dequantized = simOutputs[0].map { Float(Double(outTensor.scales[0]) * Double(Int64($0) - Int64(outTensor.zeroPoints[0]))) }
            if outputSoftmax { Self.softmax(&dequantized, rowLength: outputSize) }
            evaluation.quantizedOutputs.append(contentsOf: dequantized)
            start += n
            evaluation.samples = start
            progress(start, samples.count)
        }
        return evaluation
    }

    /// Whether `op`'s outputs hold some of its input's quantized values unchanged (no rounding of its own):
    /// max pools, reshapes, padding, and a concatenation whose inputs all share the output's encoding.
    static func copiesValues(_ op: QOp, _ model: QModel) -> Bool {
        switch op.kind {
        case .maxPool2D, .globalMaxPool2D, .flatten, .reshape, .zeroPadding2D: return true
        case .concatenate:
            let out = model.tensors[op.outputs[0]]
            return op.inputs.allSatisfy { model.tensors[$0].scales == out.scales && model.tensors[$0].zeroPoints == out.zeroPoints }
        default: return false
        }
    }

    /// `round(x / scale) + zp` in Double, ties away from zero, clamped: the fake quantization of a float
    /// activation for its SQNR (Double keeps the int32 logits' 2^-23 steps exact; the runtimes' input
    /// edge is `QTensor.quantizeEdge`).
    private func fakeQuantize(_ x: Float, _ t: QTensor) -> Int32 {
        let q = (Double(x) / Double(t.scales[0])).rounded(.toNearestOrAwayFromZero) + Double(t.zeroPoints[0])
        if q.isNaN { return t.zeroPoints[0] }
        return Int32(min(max(q, Double(t.type.minValue)), Double(t.type.maxValue)))
    }

    private func compare(_ f: [Float], _ q: UnsafeBufferPointer<Int32>, _ t: QTensor, into layer: inout LayerComparison) {
        let s = t.scales[0], z = t.zeroPoints[0]
        var energy = 0.0, error = 0.0, qError = 0.0
        for i in 0..<min(f.count, q.count) {
            let x = Double(f[i])
            energy += x * x
            let d = x - Double(s) * Double(Int64(q[i]) - Int64(z))
            error += d * d
            let fq = Double(s) * Double(Int64(fakeQuantize(f[i], t)) - Int64(z))
            qError += (x - fq) * (x - fq)
        }
        layer.floatEnergy += energy
        layer.errorEnergy += error
        layer.quantizationErrorEnergy += qError
    }

    static func softmax(_ values: inout [Float], rowLength: Int) {
        guard rowLength > 0 else { return }
        for row in 0..<(values.count / rowLength) {
            let r = row * rowLength..<(row + 1) * rowLength
            let m = values[r].max() ?? 0
            var sum: Float = 0
            for i in r { values[i] = exp(values[i] - m); sum += values[i] }
            for i in r { values[i] /= sum }
        }
    }
}
