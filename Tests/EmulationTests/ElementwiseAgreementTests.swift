import Emulation
import FixedPoint
import QBin
import Simulator
import XCTest

/// add, subtract, multiply, requantize and concatenate (real rescales), and the integer ops (pools,
/// padding, reshapes, lookup table), against the simulator over activation widths 2 ... 8.
final class ElementwiseAgreementTests: XCTestCase {
    func testAddSubtractMultiplyRequantizeConcatenateAgree() throws {
        var rng = TestRNG(seed: 41)
        var totals: [String: [RoundingProfile: Agreement]] = [:]
        for bits in 2...8 {
            for trial in 0..<6 {
                let shape = [rng.int(1...4), rng.int(1...4), rng.int(1...6)]
                for kind in [QOpKind.add, .subtract, .multiply, .requantize, .concatenate] {
                    var b = ModelBuilder()
                    let (inType, zin) = randomActivation(&rng, bits: bits)
                    let x = b.input(shape, inType, scale: Float(rng.double(0.01, 0.1)), zero: zin)
                    // A second activation derived from the first with other parameters (a real requantize).
                    let (otherType, otherZero) = randomActivation(&rng, bits: max(bits, rng.int(2...8)))
                    let other = b.activation("other", shape, otherType, scale: Float(rng.double(0.01, 0.1)), zero: otherZero)
                    b.op(.requantize, [x], other, b.requant([b.scale(x) / b.scale(other)], output: other))
                    let (outType, zout) = randomActivation(&rng, bits: max(bits, rng.int(2...8)))
                    let inputs = kind == .add && trial % 2 == 0 ? [x, other, x] : [x, other]
                    var outShape = shape
                    if kind == .concatenate { outShape[trial % 3] *= 2 }
                    let outScale: Double
                    switch kind {
                    case .multiply: outScale = b.scale(x) * b.scale(other) * Double(inType.maxValue - inType.minValue + 1) * rng.double(1, 8)
                    default: outScale = max(b.scale(x), b.scale(other)) * rng.double(0.3, 3)
                    }
                    let y = b.activation("y", outShape, outType, scale: Float(outScale), zero: zout)
                    let clamp = randomClamp(&rng, outType, zero: zout)
                    switch kind {
                    case .add, .subtract:
                        b.op(kind, inputs, y, b.addRequant(inputs: inputs, output: y).merging(["clamp": clamp]))
                    case .multiply:
                        b.op(kind, inputs, y, b.requant([b.scale(x) * b.scale(other) / b.scale(y)], clamp: clamp, output: y))
                    case .requantize:
                        b.op(kind, [other], y, b.requant([b.scale(other) / b.scale(y)], clamp: clamp, output: y))
                    default:
                        let ms = inputs.map { QuantizedMultiplier(b.scale($0) / b.scale(y)) }
                        b.op(kind, inputs, y, ["axis": [Int32(trial % 3)], "input_multiplier": ms.map(\.multiplier), "input_shift": ms.map(\.shift)])
                    }
                    let agreement = try compareWithSimulator(b.finished(outputs: [y]), batch: 4, seed: UInt64(bits * 10 + trial))
                    assertAgrees(agreement, "\(kind) bits \(bits) trial \(trial)")
                    for (p, a) in agreement { totals["\(kind)", default: [:]][p, default: Agreement()].add(a) }
                }
            }
        }
        for (kind, t) in totals.sorted(by: { $0.key < $1.key }) {
            print("[emulation] \(kind): single \(t[.single]!), gemmlowp \(t[.gemmlowp]!)")
        }
    }

    /// Pools, global pools, zero padding, flatten, reshape and lookup tables are integer ops in both
    /// executors: equal everywhere.
    func testIntegerOpsMatchExactly() throws {
        var rng = TestRNG(seed: 43)
        for bits in 2...8 {
            for trial in 0..<4 {
                let (t, zin) = randomActivation(&rng, bits: bits)
                let h = rng.int(3...7), w = rng.int(3...7), c = rng.int(1...5)
                let (kh, kw) = (rng.int(1...3), rng.int(1...3)), stride = (rng.int(1...2), rng.int(1...2))
                let pad = (rng.int(0...1), rng.int(0...1), rng.int(0...1), rng.int(0...1))
                let outH = (h + pad.0 + pad.1 - kh) / stride.0 + 1, outW = (w + pad.2 + pad.3 - kw) / stride.1 + 1
                let poolAttributes: [String: [Int32]] = ["kernel": [Int32(kh), Int32(kw)], "stride": [Int32(stride.0), Int32(stride.1)],
                                                         "padding": [Int32(pad.0), Int32(pad.1), Int32(pad.2), Int32(pad.3)]]
                var b = ModelBuilder()
                let x = b.input([h, w, c], t, zero: zin)
                let mp = b.activation("mp", [outH, outW, c], t, zero: zin)
                b.op(.maxPool2D, [x], mp, poolAttributes)
                let ap = b.activation("ap", [outH, outW, c], t, zero: zin)
                b.op(.averagePool2D, [x], ap, poolAttributes.merging(["clamp": randomClamp(&rng, t, zero: zin)]))
                let gap = b.activation("gap", [c], t, zero: zin)
                b.op(.globalAveragePool2D, [ap], gap, ["clamp": randomClamp(&rng, t, zero: zin)])
                let gmp = b.activation("gmp", [c], t, zero: zin)
                b.op(.globalMaxPool2D, [mp], gmp, [:])
                let padded = b.activation("pad", [h + pad.1 + 1, w + pad.0 + pad.3, c], t, zero: zin)
                b.op(.zeroPadding2D, [x], padded, ["padding": [Int32(pad.1), 1, Int32(pad.0), Int32(pad.3)]])
                let flat = b.activation("flat", [(h + pad.1 + 1) * (w + pad.0 + pad.3) * c], t, zero: zin)
                b.op(.flatten, [padded], flat, [:])
                let (outType, zout) = randomActivation(&rng, bits: rng.int(2...8))
                let looked = b.activation("lut", [(h + pad.1 + 1) * (w + pad.0 + pad.3) * c], outType, zero: zout)
                b.op(.lookupTable, [flat, b.constant("table", [1 << bits], .int32, rng.values(1 << bits, outType))], looked, [:])
                let reshaped = b.activation("reshaped", [h + pad.1 + 1, (w + pad.0 + pad.3) * c], outType, zero: zout)
                b.op(.reshape, [looked], reshaped, ["shape": [Int32(h + pad.1 + 1), Int32((w + pad.0 + pad.3) * c)]])
                let agreement = try compareWithSimulator(b.finished(outputs: [mp, ap, gap, gmp, reshaped]), batch: 3, seed: UInt64(trial))
                assertAgrees(agreement, "integer ops bits \(bits) trial \(trial)", exact: true)
            }
        }
    }
}
