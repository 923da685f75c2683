import Emulation
import FixedPoint
import QBin
import Simulator
import XCTest

/// Runs `model` on one random integer input with the simulator under both rounding profiles and
/// compares every op's output with the emulator's `runOp` on the simulator's own inputs to that op
/// (teacher forcing: each op is judged alone, so one op's rounding difference does not propagate).
func compareWithSimulator(_ model: QModel, batch: Int, seed: UInt64) throws -> [RoundingProfile: Agreement] {
    var rng = TestRNG(seed: seed)
    let inputTensor = model.tensors[model.inputs[0]]
    let input = rng.values(batch * inputTensor.elementCount, inputTensor.type)
    let emulator = try QuantizedEmulator(model: model)
    var result: [RoundingProfile: Agreement] = [:]
    for profile in RoundingProfile.allCases {
        let simulator = try IntegerSimulator(model: model, rounding: profile, maxBatch: batch)
        let seen = simulatedTensors(simulator, input, batch: batch)
        var agreement = Agreement()
        for (index, op) in model.ops.enumerated() {
            let inputs = (op.kind.hasConstantInputs ? [op.inputs[0]] : op.inputs).map { seen[$0]! }
            agreement.add(emulator.runOp(index, inputs: inputs, batch: batch), seen[op.outputs[0]]!)
        }
        result[profile] = agreement
    }
    return result
}

/// Every activation the simulator computes on `input` (one pass: `batch <= maxBatch`), by tensor index.
func simulatedTensors(_ simulator: IntegerSimulator, _ input: [Int32], batch: Int) -> [Int: [Int32]] {
    var seen: [Int: [Int32]] = [simulator.model.inputs[0]: input]
    _ = simulator.runQuantized(input: input, batch: batch) { _, tensor, values in seen[tensor] = Array(values) }
    return seen
}

/// The emulator against the simulator: within `maxOpDifference` for both profiles, at least
/// `singleAgreementFloor` equal for `single` (gemmlowp's double rounding disagrees more often; its
/// rate is reported, see docs/numerics.md).
func assertAgrees(_ agreement: [RoundingProfile: Agreement], _ context: String, exact: Bool = false,
                  file: StaticString = #filePath, line: UInt = #line) {
    for (profile, a) in agreement {
        XCTAssertGreaterThan(a.total, 0, context, file: file, line: line)
        XCTAssertLessThanOrEqual(a.maxDifference, exact ? 0 : maxOpDifference, "\(context) \(profile): \(a)", file: file, line: line)
    }
    if let single = agreement[.single] {
        XCTAssertGreaterThanOrEqual(single.fraction, singleAgreementFloor, "\(context) single: \(single)", file: file, line: line)
    }
}

/// A random `[lower, upper]` clamp inside `type`, sometimes the whole range (a fused ReLU-like bound otherwise).
func randomClamp(_ rng: inout TestRNG, _ type: QType, zero: Int32) -> [Int32] {
    let lo = Int32(type.minValue), hi = Int32(type.maxValue)
    let upper = hi - Int32((Int64(hi) - Int64(lo)) / 8)
    return rng.bool() || zero > upper ? [lo, hi] : [Swift.max(lo, zero), upper]
}

/// A random activation type of `bits` (signed or not) and a zero point inside it.
func randomActivation(_ rng: inout TestRNG, bits: Int) -> (QType, Int32) {
    let t = rng.bool() ? QType.unsigned(bits)! : QType.signed(bits)!
    return (t, rng.int32(t.minValue...t.maxValue))
}

/// Output scale for an accumulator of `taps` products of random `x - zin` and weights: chosen so
/// that a typical output spans about a sixth of the output type (`M = s_x * s_w / s_out`).
func outputScale(inputScale: Double, weightScale: Double, taps: Int, input: QType, weights: QType, output: QType) -> Float {
    let inputSpread = Double(input.maxValue - input.minValue + 1) / 12.squareRoot()
    let weightSpread = Double(2 * weights.maxValue + 1) / 12.squareRoot()
    let accSpread = Double(taps).squareRoot() * inputSpread * weightSpread
    let m = Double(output.maxValue - output.minValue) / 6 / accSpread
    return Float(inputScale * weightScale / m)
}
