import Emulation
import FixedPoint
import QBin
import Simulator
import XCTest

/// A small CNN, conv -> conv -> add (residual) -> global average pool -> dense, at every weight width:
/// per op (teacher forced) and end to end against the simulator, and `runOp` against the emulator's own pass.
final class ChainTests: XCTestCase {
    /// conv1 (3x3, u8 with ReLU clamp) -> conv2 (3x3) -> add(conv1, conv2) -> globalAveragePool2D -> dense.
    private func chain(weightBits bits: Int, seed: UInt64) -> QModel {
        var rng = TestRNG(seed: seed)
        let wType = QType.signed(bits)!
        var b = ModelBuilder()
        let x = b.input([8, 8, 3], s8, scale: 0.02, zero: -5)
        func conv(_ name: String, _ input: Int, cin: Int, cout: Int, outType: QType, zero: Int32) -> Int {
            let sw = rng.double(0.005, 0.1)
            let scales = (0..<cout).map { _ in Float(sw * rng.double(0.6, 1.4)) }
            let w = b.constant("\(name).w", [cout, 3, 3, cin], wType, rng.weights(cout * 9 * cin, wType), scales: scales)
            let bias = b.constant("\(name).b", [cout], .int32, (0..<cout).map { _ in rng.int32(-2000...2000) })
            let sOut = outputScale(inputScale: b.scale(input), weightScale: sw, taps: 9 * cin,
                                   input: b.type(input), weights: wType, output: outType)
            let y = b.activation(name, [8, 8, cout], outType, scale: sOut, zero: zero)
            b.op(.conv2D, [input, w, bias], y, window(kernel: (3, 3), padding: (1, 1, 1, 1)).merging(["groups": [1]])
                .merging(b.weightedRequant(input: input, weights: w, output: y, clamp: [zero, Int32(outType.maxValue)])))
            return y
        }
        let c1 = conv("conv1", x, cin: 3, cout: 8, outType: u8, zero: 0)
        let c2 = conv("conv2", c1, cin: 8, cout: 8, outType: s8, zero: -128)
        let sum = b.activation("add", [8, 8, 8], u8, scale: Float(max(b.scale(c1), b.scale(c2)) * 1.5), zero: 0)
        b.op(.add, [c1, c2], sum, b.addRequant(inputs: [c1, c2], output: sum).merging(["clamp": [0, 255]]))
        let gap = b.activation("gap", [8], u8, scale: b.model.tensors[sum].scales[0], zero: 0)
        b.op(.globalAveragePool2D, [sum], gap, ["clamp": [0, 255]])
        let sw = rng.double(0.005, 0.1)
        let w = b.constant("dense.w", [10, 8], wType, rng.weights(80, wType), scales: (0..<10).map { _ in Float(sw * rng.double(0.6, 1.4)) })
        let logits = b.activation("logits", [10], s8,
                                  scale: outputScale(inputScale: b.scale(gap), weightScale: sw, taps: 8, input: u8, weights: wType, output: s8), zero: 3)
        b.op(.dense, [gap, w], logits, b.weightedRequant(input: gap, weights: w, output: logits))
        return b.finished(outputs: [logits])
    }

    func testChainAgreesPerOpForEveryWeightWidth() throws {
        var total: [RoundingProfile: Agreement] = [:]
        for bits in 2...8 {
            let agreement = try compareWithSimulator(chain(weightBits: bits, seed: UInt64(bits)), batch: 6, seed: 99)
            assertAgrees(agreement, "chain w\(bits) per op")
            for (p, a) in agreement { total[p, default: Agreement()].add(a) }
        }
        print("[emulation] chain per op (teacher forced), w2...8: single \(total[.single]!), gemmlowp \(total[.gemmlowp]!)")
    }

    /// End to end, differences propagate (a 1-LSB change of conv1 moves conv2's accumulator): with the
    /// `single` profile the emulator still agrees on >= 99.9 % of the logits; gemmlowp is reported.
    func testChainAgreesEndToEnd() throws {
        var total: [RoundingProfile: Agreement] = [:]
        for bits in 2...8 {
            let model = chain(weightBits: bits, seed: UInt64(bits))
            var rng = TestRNG(seed: 7)
            let input = rng.values(16 * 192, s8)
            let emulated = try QuantizedEmulator(model: model).runQuantized(input: input, batch: 16, observe: nil)[0]
            XCTAssertTrue(emulated.contains { $0 != emulated[0] }, "w\(bits): logits should vary")
            for profile in RoundingProfile.allCases {
                let simulated = try IntegerSimulator(model: model, rounding: profile).runQuantized(input: input, batch: 16, observe: nil)[0]
                let a = Agreement(emulated, simulated)
                total[profile, default: Agreement()].add(a)
                if profile == .single {
                    XCTAssertGreaterThanOrEqual(a.fraction, singleAgreementFloor, "w\(bits) single end to end: \(a)")
                    XCTAssertLessThanOrEqual(a.maxDifference, maxOpDifference, "w\(bits) single end to end: \(a)")
                }
            }
        }
        print("[emulation] chain end to end logits, w2...8: single \(total[.single]!), gemmlowp \(total[.gemmlowp]!)")
    }

    /// `runOp` on the emulator's own inputs reproduces its full pass exactly, op by op, and `run`
    /// dequantizes what `runQuantized` computes.
    func testRunOpReproducesTheFullPassAndRunDequantizes() throws {
        let model = chain(weightBits: 4, seed: 4)
        let emulator = try QuantizedEmulator(model: model, maxBatch: 8)
        XCTAssertEqual(emulator.inputShape, [8, 8, 3])
        var rng = TestRNG(seed: 3)
        let input = rng.values(5 * 192, s8)
        var seen: [Int: [Int32]] = [model.inputs[0]: input]
        var order: [Int] = []
        _ = emulator.runQuantized(input: input, batch: 5) { op, tensor, values in
            order.append(op)
            seen[tensor] = Array(values)
        }
        XCTAssertEqual(order, Array(model.ops.indices))
        for (index, op) in model.ops.enumerated() {
            let inputs = (op.kind.hasConstantInputs ? [op.inputs[0]] : op.inputs).map { seen[$0]! }
            XCTAssertEqual(emulator.runOp(index, inputs: inputs, batch: 5), seen[op.outputs[0]]!, "op \(index) \(op.kind)")
        }
        // Batches larger than maxBatch run in passes with the same results.
        let big = rng.values(19 * 192, s8)
        let whole = emulator.runQuantized(input: big, batch: 19, observe: nil)[0]
        let pieces = (0..<19).flatMap { i in emulator.runQuantized(input: Array(big[(i * 192)..<((i + 1) * 192)]), batch: 1, observe: nil)[0] }
        XCTAssertEqual(whole, pieces)

        let floats = (0..<2 * 192).map { _ in Float(rng.double(-3, 3)) }
        let out = floats.withUnsafeBufferPointer { emulator.run(input: $0, batch: 2) }[0]
        let q = emulator.runQuantized(input: floats.map { Int32(clamping: Int(($0 / 0.02).rounded(.toNearestOrAwayFromZero)) - 5) },
                                      batch: 2, observe: nil)[0]
        let logits = model.tensors[model.outputs[0]]
        XCTAssertEqual(out, q.map { logits.scales[0] * Float($0 - logits.zeroPoints[0]) })
    }
}
