import Foundation
import XCTest
@testable import FixedPoint

/// Every expected value here is computed a second way (`Exact`: truncating quotient and remainder with the
/// tie rule applied by comparison), over every shift and width, on seeded random and edge inputs.
final class PropertyTests: XCTestCase {
    static let edgeX: [Int32] = [0, 1, -1, 2, -2, 3, -3, 127, -128, 255, -256, 1 << 20, -(1 << 20), 1 << 30, -(1 << 30), .max, .min, .min + 1, .max - 1]
    static let edgeMultipliers: [Int32] = [0, 1, 1 << 30, (1 << 30) + 1, 3 << 29, .max - 1, .max]

    func testBothProfilesAgainstExactArithmeticEveryShift() {
        var rng = SplitMix64(seed: 1)
        for shift in QuantizedMultiplier.supportedShifts {
            var cases: [(Int32, Int32)] = []
            for x in Self.edgeX { for m in Self.edgeMultipliers { cases.append((x, m)) } }
            for _ in 0..<1500 { cases.append((rng.spreadInt32(), Int32.random(in: (1 << 30) ... .max, using: &rng))) }
            for (x, mult) in cases {
                let m = QuantizedMultiplier(multiplier: mult, shift: shift)
                assertMultiply(.gemmlowp, x, m, equals: Exact.gemmlowp(x, m))
                assertMultiply(.single, x, m, equals: Exact.single(x, m))
            }
        }
    }

    /// Where nothing wraps, the profiles differ by at most one LSB, and `single` is the correctly rounded
    /// value (ties up) of x * m * 2^(shift - 31).
    func testProfilesDifferByAtMostOne() {
        var rng = SplitMix64(seed: 2)
        for shift in Int32(-31)...0 {
            for _ in 0..<2000 {
                let x = rng.spreadInt32()
                let m = QuantizedMultiplier(multiplier: Int32.random(in: (1 << 30) ... .max, using: &rng), shift: shift)
                let g = RoundingProfile.gemmlowp.multiply(x, by: m), s = RoundingProfile.single.multiply(x, by: m)
                XCTAssertLessThanOrEqual(abs(Int64(g) - Int64(s)), 1, "x \(x) m \(m)")
            }
        }
    }

    func testSRDHMAgainstExact() {
        var rng = SplitMix64(seed: 3)
        let edges: [Int32] = [0, 1, -1, 2, -2, 1 << 30, -(1 << 30), .max, .min, .min + 1, 46341, -46341]
        for a in edges { for b in edges { XCTAssertEqual(saturatingRoundingDoublingHighMul(a, b), Exact.srdhm(a, b), "\(a) * \(b)") } }
        for _ in 0..<50_000 {
            let a = rng.spreadInt32(), b = rng.spreadInt32()
            XCTAssertEqual(saturatingRoundingDoublingHighMul(a, b), Exact.srdhm(a, b), "\(a) * \(b)")
        }
        XCTAssertEqual(saturatingRoundingDoublingHighMul(.min, .min), .max, "the one saturating input")
    }

    func testRoundingShiftsAgainstExactEveryExponent() {
        var rng = SplitMix64(seed: 4)
        for exponent in 0...31 {
            for _ in 0..<2000 {
                let x = rng.spreadInt32()
                XCTAssertEqual(Int64(roundingDivideByPowerOfTwo(x, exponent)), Exact.divideHalfAway(Int64(x), log2Divisor: exponent), "\(x) / 2^\(exponent)")
            }
        }
        for exponent in 0...62 {
            for _ in 0..<1000 {
                // |x| < 2^62 keeps x + 2^(e-1) in range for the half-up form.
                let x = Int64.random(in: -(1 << 62) + 1 ... (1 << 62) - 1, using: &rng) >> Int64.random(in: 0...62, using: &rng)
                XCTAssertEqual(roundingDivideByPowerOfTwo(x, exponent), Exact.divideHalfAway(x, log2Divisor: exponent), "\(x) / 2^\(exponent)")
                XCTAssertEqual(roundingShiftRightHalfUp(x, exponent), Exact.divideHalfUp(x, log2Divisor: exponent), "\(x) / 2^\(exponent)")
                let (q, r) = x.quotientAndRemainder(dividingBy: Int64(1) << exponent)
                XCTAssertEqual(floorDivideByPowerOfTwo(x, exponent), r < 0 ? q - 1 : q, "floor(\(x) / 2^\(exponent))")
            }
        }
    }

    /// The tie table of docs/numerics.md, one row per line: x * 0.25 = (2^30, shift -1) puts the tie in
    /// the final right shift; x * 0.5 = (2^30, shift 0) has no right shift, so gemmlowp's only rounding is
    /// SRDHM's (ties up).
    func testTieTable() {
        let quarter = QuantizedMultiplier(0.25), half = QuantizedMultiplier(0.5)
        XCTAssertEqual(quarter, QuantizedMultiplier(multiplier: 1 << 30, shift: -1))
        // halfEven: what XNNPACK's float requantisation gives (exact here: small values, power-of-two scale).
        let rows: [(x: Int32, m: QuantizedMultiplier, gemmlowp: Int32, single: Int32, halfEven: Int64)] = [
            (2, quarter, 1, 1, 0), (-2, quarter, -1, 0, 0), (6, quarter, 2, 2, 2), (-6, quarter, -2, -1, -2),
            (10, quarter, 3, 3, 2), (-10, quarter, -3, -2, -2),
            (1, half, 1, 1, 0), (-1, half, 0, 0, 0), (-3, half, -1, -1, -2),
        ]
        for row in rows {
            assertMultiply(.gemmlowp, row.x, row.m, equals: row.gemmlowp, "tie \(row.x) * \(row.m.realValue)")
            assertMultiply(.single, row.x, row.m, equals: row.single, "tie \(row.x) * \(row.m.realValue)")
            XCTAssertEqual(roundHalfToEven(Double(row.x) * row.m.realValue), row.halfEven, "tie \(row.x) * \(row.m.realValue)")
        }
        XCTAssertEqual(saturatingRoundingDoublingHighMul(-1, 1 << 30), 0, "-0.5 ties toward +inf")
        XCTAssertEqual(roundingDivideByPowerOfTwo(Int32(-1), 1), -1, "-0.5 ties away from zero")
        XCTAssertEqual(roundHalfAwayFromZero(-2.5), -3)
        XCTAssertEqual(roundHalfAwayFromZero(2.5), 3)
        XCTAssertEqual(roundHalfToEven(-2.5), -2)
        XCTAssertEqual(roundHalfToEven(3.5), 4)
        XCTAssertEqual(roundHalfAwayFromZero(.nan), 0)
        XCTAssertEqual(roundHalfAwayFromZero(1e300), .max)
        XCTAssertEqual(roundHalfToEven(-.infinity), .min)
    }

    /// The share of int8 outputs on which the profiles disagree, for the distribution of
    /// tools/make_numerics_golden.py (`disagreement`): M log-uniform in [2^-14, 2^-4], outputs about
    /// +-1.25x the int8 range. The script measured 0.51 % on 200,000 samples.
    func testDisagreementShareMatchesTheScript() {
        var rng = SplitMix64(seed: 5)
        let samples = 100_000
        var differ = 0
        for _ in 0..<samples {
            let real = pow(2, Double.random(in: -14 ... -4, using: &rng))
            let m = QuantizedMultiplier(real)
            let limit = Int32(160 / real)
            let x = Int32.random(in: -limit...limit, using: &rng), zp = Int32.random(in: -20...20, using: &rng)
            let g = clamp(RoundingProfile.gemmlowp.multiply(x, by: m) + zp, -128, 127)
            let s = clamp(RoundingProfile.single.multiply(x, by: m) + zp, -128, 127)
            XCTAssertLessThanOrEqual(abs(g - s), 1)
            if g != s { differ += 1 }
        }
        let share = Double(differ) / Double(samples)
        // Binomial standard deviation at p = 0.5 %, n = 1e5 is 0.022 %; 0.12 % is over five of them.
        XCTAssertEqual(share, 0.0051, accuracy: 0.0012, "measured \(share)")
    }
}
