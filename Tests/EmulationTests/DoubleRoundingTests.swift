import FixedPoint
import QCTestSupport
import XCTest
@testable import Emulation

/// The emulation's model of gemmlowp's double rounding (`RealRescale` with `doubleRounding`) against the
/// integer `RoundingProfile.gemmlowp.multiply` of the multiplier derived from the same factor.
final class DoubleRoundingTests: XCTestCase {
    func testFirstGridIsTheMultipliersRightShift() throws {
        for factor in [0.75, 0.5, 0.49999, 1.0, 1.5, 3e-3, 1.0 / 1024, 0.999_999_999_9, 2.3e-9] {
            let m = try QuantizedMultiplier.make(factor, for: .gemmlowp)
            XCTAssertEqual(RealRescale.firstGrid(of: factor), Double(1 << Int(max(-m.shift, 0))), "factor \(factor)")
        }
    }

    func testMatchesTheIntegerProfileWhereSingleRoundingDoesNot() throws {
        var rng = SplitMix64(seed: 21)
        var sameDouble = 0, sameSingle = 0, total = 0
        for _ in 0..<2000 {
            // Factors 2^-12 ... 2^6: right shifts 12 ... 0 (where double rounding differs most often) and
            // left shifts, with results up to ~2^26 (int32 logits), where the multiplier's 31 bits matter.
            let factor = Foundation.pow(2, -12 + 18 * rng.uniform())
            let m = try QuantizedMultiplier.make(factor, for: .gemmlowp)
            let twice = RealRescale(factors: [factor], outputZero: 3, lower: Int32.min, upper: Int32.max, doubleRounding: true)
            let once = RealRescale(factors: [factor], outputZero: 3, lower: Int32.min, upper: Int32.max, doubleRounding: false)
            for _ in 0..<50 {
                let acc = Int32(truncatingIfNeeded: Int64(rng.next() % 2_000_001) - 1_000_000)
                let integer = RoundingProfile.gemmlowp.multiply(acc, by: m) &+ 3
                let emulated = twice.apply(Int64(acc), channel: 0)
                XCTAssertLessThanOrEqual(abs(Int64(emulated) - Int64(integer)), 1)
                if emulated == integer { sameDouble += 1 }
                if once.apply(Int64(acc), channel: 0) == integer { sameSingle += 1 }
                total += 1
            }
        }
        XCTAssertGreaterThanOrEqual(Double(sameDouble) / Double(total), 0.9999, "double-rounding model: \(sameDouble) of \(total)")
        XCTAssertLessThan(sameSingle, total - 100, "single rounding should miss double-rounding cases: \(sameSingle) of \(total)")
    }
}
