import FixedPoint
import QBin
import QCore
@testable import Simulator
import XCTest

/// The integer `layerNorm` op against the float `LayerNorm` (Double, on the dequantized input, with the
/// real gamma, beta and epsilon): within `maxOutputStepError` output steps (docs/numerics.md,
/// "Layer normalization"). The constants are made as the quantizer makes them (`lowerLayerNorm`).
final class LayerNormTests: XCTestCase {
    /// The documented bound: one output step (rounding of `n` to `2^-F`, the inverse square root's
    /// relative error below 2^-27, and the requantization's own half step).
    static let maxOutputStepError: Int32 = 1

    struct Case {
        var channels: Int
        var inType: QType = s8, inScale: Double = 0.05, inZero: Int32 = 3
        var outType: QType = s8, outScale: Double = 0.04, outZero: Int32 = -2
        var epsilon: Double = 1e-6
    }

    static func uniform(_ rng: inout TestRNG, _ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * Double(rng.next() >> 11) / Double(1 << 53)
    }

    /// A one-op model and the real gamma / beta it encodes.
    static func model(_ k: Case, rng: inout TestRNG) -> (QModel, gamma: [Double], beta: [Double]) {
        let c = k.channels
        let gamma = (0..<c).map { i in (i % 5 == 4 ? -1.0 : 1.0) * uniform(&rng, 0.3, 1.2) }
        let beta = (0..<c).map { _ in uniform(&rng, -0.8, 0.8) }
        let room = 1_073_741_824 / (127 * Double(c).squareRoot())
        let f = min(24, max(0, Int(room.exponent)))
        let unit = 1 / Double(Int64(1) << f)
        var b = ModelBuilder()
        let x = b.input([2, c], k.inType, scale: Float(k.inScale), zero: k.inZero)
        let y = b.activation("y", [2, c], k.outType, scale: Float(k.outScale), zero: k.outZero)
        // |a| = 127 unless |b| + max|n| |a| would pass 2^31 - 1 (a large beta / gamma): then the largest
        // |a| that fits, as `ModelBuilder.affineConstants` chooses it.
        let maxN = Int64((Double(c).squareRoot() / unit).rounded(.up)) + 1
        var qa: [Int32] = [], sa: [Float] = [], qb: [Int32] = []
        for i in 0..<c {
            var magnitude: Int64 = 127
            while true {
                let s = Float(abs(gamma[i]) / Double(magnitude))
                let bq = Int64((beta[i] / (Double(s) * unit)).rounded(.toNearestOrAwayFromZero))
                if abs(bq) + maxN * magnitude <= Int64(Int32.max) {
                    qa.append(Int32(gamma[i] < 0 ? -magnitude : magnitude)); sa.append(s); qb.append(Int32(bq))
                    break
                }
                magnitude -= 1
            }
        }
        let m = (0..<c).map { QuantizedMultiplier(Double(sa[$0]) * unit / Double(Float(k.outScale))) }
        let g = b.model.addTensor(.constant("gamma", shape: [c], type: s8, scales: sa, values: qa))
        let bt = b.model.addTensor(.constant("beta", shape: [c], type: .int32, scales: sa.map { Float(Double($0) * unit) }, values: qb))
        let sx = Double(Float(k.inScale))
        let e = Int64((Double(c * c) * k.epsilon / (sx * sx)).rounded(.toNearestOrAwayFromZero))
        b.op(.layerNorm, [x, g, bt], y, ["fraction_bits": [Int32(f)], "epsilon": LayerNormLimits.halves(e),
                                         "multiplier": m.map(\.multiplier), "shift": m.map(\.shift),
                                         "clamp": [Int32(k.outType.minValue), Int32(k.outType.maxValue)]])
        // The real values the constants stand for (gamma exact up to Float; beta to 2^-F sa).
        return (b.finished(outputs: [y]), (0..<c).map { Double(qa[$0]) * Double(sa[$0]) }, (0..<c).map { Double(qb[$0]) * Double(sa[$0]) * unit })
    }

    /// Largest |integer - quantized float| and the share of values that differ, over `rows` random rows.
    static func measure(_ k: Case, rows: Int, seed: UInt64) throws -> (max: Int32, differing: Double) {
        var rng = TestRNG(seed: seed)
        let (model, gamma, beta) = model(k, rng: &rng)
        let c = k.channels, batch = rows / 2
        var input = rng.values(batch * 2 * c, k.inType)
        // One constant row: zero variance, where only epsilon keeps the square root away from 0.
        for i in 0..<c { input[i] = k.inZero + 5 }
        let got = try runReference(model, input, batch: batch)
        var worst: Int32 = 0, differing = 0
        for row in 0..<(batch * 2) {
            let x = (0..<c).map { Double(Float(k.inScale)) * Double(input[row * c + $0] - k.inZero) }
            let mean = x.reduce(0, +) / Double(c)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            let inverse = 1 / (variance + k.epsilon).squareRoot()
            for i in 0..<c {
                let yv = gamma[i] * (x[i] - mean) * inverse + beta[i]
                let q = (yv / Double(Float(k.outScale))).rounded(.toNearestOrAwayFromZero) + Double(k.outZero)
                let expected = Int32(min(max(q, Double(k.outType.minValue)), Double(k.outType.maxValue)))
                let d = abs(got[row * c + i] - expected)
                worst = max(worst, d)
                if d != 0 { differing += 1 }
            }
        }
        return (worst, Double(differing) / Double(batch * 2 * c))
    }

    func testIntegerLayerNormIsWithinOneStepOfFloat() throws {
        let cases: [Case] = [
            Case(channels: 1), Case(channels: 2), Case(channels: 16), Case(channels: 96, epsilon: 1e-3),
            Case(channels: 768), Case(channels: 96, inType: u8, inZero: 128, outType: u8, outZero: 120),
            Case(channels: 64, inType: QType.signed(4)!, inScale: 0.3, inZero: 0, outType: QType.signed(4)!, outScale: 0.5, outZero: 0),
        ]
        var worstShare = 0.0, worst: Int32 = 0
        for (n, k) in cases.enumerated() {
            let r = try Self.measure(k, rows: 16, seed: UInt64(n + 1))
            XCTAssertLessThanOrEqual(r.max, Self.maxOutputStepError, "\(k)")
            // Measured 0 differing values over these cases; a value on a rounding edge of the float result may differ.
            XCTAssertLessThan(r.differing, 0.05, "\(k)")
            worstShare = max(worstShare, r.differing)
            worst = max(worst, r.max)
        }
        print("layerNorm integer vs float: max \(worst) step(s), largest share of differing values \(worstShare)")
    }

    func testLimitsAreEnforced() {
        XCTAssertNotNil(LayerNormLimits.check(inputBits: 17, channels: 8, fractionBits: 10, epsilon: [0, 1]))
        XCTAssertNotNil(LayerNormLimits.check(inputBits: 8, channels: LayerNormLimits.maxChannels + 1, fractionBits: 10, epsilon: [0, 1]))
        XCTAssertNotNil(LayerNormLimits.check(inputBits: 8, channels: 8, fractionBits: 25, epsilon: [0, 1]))
        XCTAssertNotNil(LayerNormLimits.check(inputBits: 8, channels: 8, fractionBits: 10, epsilon: [-1, 0]))
        XCTAssertNil(LayerNormLimits.check(inputBits: 8, channels: 8, fractionBits: 10, epsilon: [0, 0]))
        XCTAssertNotNil(LayerNormLimits.check(inputBits: 8, channels: 8, fractionBits: 10, epsilon: LayerNormLimits.halves(LayerNormLimits.maxEpsilon + 1)))
        XCTAssertNil(LayerNormLimits.check(inputBits: 16, channels: LayerNormLimits.maxChannels, fractionBits: 24,
                                           epsilon: LayerNormLimits.halves(LayerNormLimits.maxEpsilon)))
    }

    /// The longest rows the limits allow (2^14 channels of u8 extremes, the largest epsilon) stay exact
    /// (the reference would trap on an Int64 overflow; the 16-bit bound of docs/numerics.md section 8 is
    /// argued there, the format has no 16-bit type yet).
    func testExtremeRowsDoNotOverflow() throws {
        let c = LayerNormLimits.maxChannels
        var b = ModelBuilder()
        let type = u8
        let x = b.input([c], type, scale: 1, zero: 0)
        let y = b.activation("y", [c], .int32, scale: 1, zero: 0)
        let g = b.model.addTensor(.constant("gamma", shape: [c], type: s8, scales: [1], values: [Int32](repeating: 127, count: c)))
        let bt = b.model.addTensor(.constant("beta", shape: [c], type: .int32, scales: [1], values: [Int32](repeating: 0, count: c)))
        b.op(.layerNorm, [x, g, bt], y, ["fraction_bits": [24], "epsilon": LayerNormLimits.halves(LayerNormLimits.maxEpsilon),
                                         "multiplier": [1 << 30], "shift": [1], "clamp": [Int32.min, Int32.max]])
        let model = b.finished(outputs: [y])
        let input = (0..<c).map { Int32($0 == 0 ? 255 : 0) }
        let out = try runReference(model, input)
        XCTAssertEqual(out.count, c)
        // y[0] = 255 (C - 1) / sqrt(255^2 (C - 1) + 2^60) ~= 2^-8.0: n = 2^24 y, times 127.
        let y0 = 255 * Double(c - 1) / (255 * 255 * Double(c - 1) + 1_152_921_504_606_846_976).squareRoot()
        XCTAssertEqual(Double(out[0]), 127 * (y0 * 16_777_216).rounded(), accuracy: 127)
        XCTAssertLessThan(out[1], 0)
    }
}
