import FixedPoint
@testable import Ops
import QBin
import QCore
@testable import Simulator
import XCTest

/// The integer `tvSmoothing` op against the float flow (`TVSmoothing.reference`, Double, on the
/// dequantized input): within `maxOutputStepError` output steps (docs/numerics.md section 7).
final class TVSmoothingTests: XCTestCase {
    override func setUp() { OpRegistry.install() }

    /// Uniform in `[lower, upper)` from the shared generator.
    static func uniform(_ rng: inout TestRNG, _ lower: Double, _ upper: Double) -> Double {
        lower + (upper - lower) * Double(rng.next() >> 11) / Double(1 << 53)
    }

    /// The documented bound: one output step, for steps <= 8 and eps >= 16 gamma^2.
    static let maxOutputStepError: Int32 = 1

    struct Case {
        var h: Int, w: Int, c: Int
        var inType: QType = u8, inScale: Double = 0.05, inZero: Int32 = 0
        var outType: QType = u8, outScale: Double = 0.05, outZero: Int32 = 0
        var gamma: Double, steps: Int, eps: Double? = nil
    }

    /// A one-op model; the integer attributes computed here as docs/numerics.md section 7 defines them.
    static func model(_ k: Case) -> QModel {
        var b = ModelBuilder()
        let x = b.input([k.h, k.w, k.c], k.inType, scale: Float(k.inScale), zero: k.inZero)
        let y = b.activation("y", [k.h, k.w, k.c], k.outType, scale: Float(k.outScale), zero: k.outZero)
        let f = 23 - k.inType.bits
        let unit = Double(Float(k.inScale)) / Double(1 << f)
        let tv = TVSmoothing(gamma: Float(k.gamma), steps: k.steps, epsilon: k.eps.map(Float.init))
        let g = (Double(tv.gamma) / unit).rounded(.toNearestOrAwayFromZero)
        let e = Int64(max(1, (Double(tv.epsilon) / (unit * unit)).rounded(.toNearestOrAwayFromZero)))
        let m = QuantizedMultiplier(unit / Double(Float(k.outScale)))
        b.op(TVSmoothingKind.kind, [x], y, ["steps": [Int32(k.steps)], "fraction_bits": [Int32(f)], "gamma": [Int32(g)],
                                    "epsilon": [Int32(e >> 31), Int32(e & 0x7fff_ffff)], "multiplier": [m.multiplier],
                                    "shift": [m.shift], "clamp": [Int32(k.outType.minValue), Int32(k.outType.maxValue)]])
        return b.finished(outputs: [y])
    }

    /// Largest |integer - quantized float| over the batch, and the share of values that differ.
    static func measure(_ k: Case, input: [Int32], batch: Int, profile: RoundingProfile) throws -> (max: Int32, differing: Double) {
        let got = try runReference(model(k), input, batch: batch, profile: profile)
        let tv = TVSmoothing(gamma: Float(k.gamma), steps: k.steps, epsilon: k.eps.map(Float.init))
        let count = k.h * k.w * k.c
        var worst: Int32 = 0, differing = 0
        for n in 0..<batch {
            var map = (0..<count).map { Double(Float(k.inScale)) * Double(input[n * count + $0] - k.inZero) }
            tv.reference(&map, height: k.h, width: k.w, channels: k.c)
            for i in 0..<count {
                let q = (map[i] / Double(Float(k.outScale))).rounded(.toNearestOrAwayFromZero) + Double(k.outZero)
                let expected = Int32(min(max(q, Double(k.outType.minValue)), Double(k.outType.maxValue)))
                let d = abs(got[n * count + i] - expected)
                worst = max(worst, d)
                if d != 0 { differing += 1 }
            }
        }
        return (worst, Double(differing) / Double(batch * count))
    }

    func check(_ k: Case, input: [Int32], batch: Int, _ context: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for profile in RoundingProfile.allCases {
            let r = try Self.measure(k, input: input, batch: batch, profile: profile)
            print("[tv] \(context) \(profile): max \(r.max) output steps, \(String(format: "%.3f", 100 * r.differing)) % differ")
            XCTAssertLessThanOrEqual(r.max, Self.maxOutputStepError, "\(context) \(profile)", file: file, line: line)
        }
    }

    func testRandomMapsWithinOneStep() throws {
        var rng = TestRNG(seed: 71)
        for trial in 0..<24 {
            let inType = rng.bool() ? u8 : s8
            let inZero = rng.int32(inType.minValue...inType.maxValue)
            let inScale = Self.uniform(&rng, 0.005, 0.2)
            let range = inScale * 255
            let k = Case(h: rng.int(1...9), w: rng.int(1...9), c: rng.int(1...4), inType: inType, inScale: inScale, inZero: inZero,
                         outType: u8, outScale: range / 255 * Self.uniform(&rng, 0.5, 1.2), outZero: 128,
                         gamma: range * Self.uniform(&rng, 0.001, 0.05), steps: rng.int(1...8))
            let input = rng.values(3 * k.h * k.w * k.c, inType)
            try check(k, input: input, batch: 3, "random trial \(trial) \(k.h)x\(k.w)x\(k.c) steps \(k.steps)")
        }
    }

    func testSmoothMapsWithEdges() throws {
        // Piecewise-smooth maps (a ramp plus a step edge plus noise): most differences are small, so the
        // flow works in its diffusive regime where rounding matters most.
        var rng = TestRNG(seed: 72)
        for trial in 0..<8 {
            let h = 12, w = 12, c = 2
            var input: [Int32] = []
            for y in 0..<h { for x in 0..<w { for ch in 0..<c {
                let edge = x > 5 + ch ? 120 : 20
                input.append(Int32(min(255, max(0, edge + y * 3 + rng.int(-4...4)))))
            } } }
            let k = Case(h: h, w: w, c: c, gamma: 0.05 * Self.uniform(&rng, 0.2, 2), steps: rng.int(1...8))
            try check(k, input: input, batch: 1, "edge map trial \(trial) gamma \(k.gamma)")
        }
    }

    func testConstantMapsAreUnchanged() throws {
        for value: Int32 in [0, 1, 77, 255] {
            let k = Case(h: 5, w: 7, c: 3, gamma: 0.3, steps: 8)
            let input = [Int32](repeating: value, count: 5 * 7 * 3)
            let got = try runReference(Self.model(k), input)
            XCTAssertEqual(got, input, "constant \(value): zero differences, zero flow, identity requantize")
        }
    }

    func testOneHugeOutlier() throws {
        // One pixel at the top of the range over a near-zero background: the flow pulls it down by about
        // 4 gamma per step and spreads it to the neighbours; the integer op follows.
        for (gamma, steps) in [(0.05, 1), (0.2, 4), (1.0, 8)] {
            var input = [Int32](repeating: 2, count: 9 * 9 * 2)
            input[(4 * 9 + 4) * 2 + 1] = 255
            let k = Case(h: 9, w: 9, c: 2, gamma: gamma, steps: steps)
            try check(k, input: input, batch: 1, "outlier gamma \(gamma) steps \(steps)")
            let got = try runReference(Self.model(k), input)
            XCTAssertLessThan(got[(4 * 9 + 4) * 2 + 1], 255, "the outlier is lowered")
        }
    }

    func testOneByOneMapsAreUnchanged() throws {
        var rng = TestRNG(seed: 73)
        let k = Case(h: 1, w: 1, c: 5, inType: s8, inScale: 0.02, inZero: -3, outType: s8, outScale: 0.02, outZero: -3, gamma: 0.5, steps: 8)
        let input = rng.values(4 * 5, s8)
        XCTAssertEqual(try runReference(Self.model(k), input, batch: 4), input)
    }

    func testLimitsAreEnforced() throws {
        var k = Case(h: 3, w: 3, c: 1, gamma: 0.1, steps: 2)
        var model = Self.model(k)
        model.ops[0].setAttribute("gamma", [Int32(1 << 26)])
        XCTAssertThrowsError(try IntegerSimulator(model: model, rounding: .single)) { error in
            XCTAssertTrue("\(error)".contains("steps * gamma"), "\(error)")
        }
        k.steps = 2
        model = Self.model(k)
        model.ops[0].setAttribute("epsilon", [0, 0])
        XCTAssertThrowsError(try IntegerSimulator(model: model, rounding: .single)) { error in
            XCTAssertTrue("\(error)".contains("epsilon"), "\(error)")
        }
        model = Self.model(k)
        model.ops[0].setAttribute("fraction_bits", [16])
        XCTAssertThrowsError(try IntegerSimulator(model: model, rounding: .single))
    }
}
