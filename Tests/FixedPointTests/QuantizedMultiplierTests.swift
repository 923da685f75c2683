import Foundation
import XCTest
@testable import FixedPoint

final class QuantizedMultiplierTests: XCTestCase {
    /// Against C's frexp (a second derivation) and the contract real ≈ multiplier * 2^(shift - 31).
    func testRandomRealsMatchFrexpAndContract() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<20_000 {
            let real = Double.random(in: 0.5..<1, using: &rng) * pow(2, Double(Int.random(in: -40...40, using: &rng)))
            let m = QuantizedMultiplier(real)
            var e: Int32 = 0
            let q = frexp(real, &e)
            var fixed = Int64((q * 2_147_483_648).rounded(.toNearestOrAwayFromZero)), shift = Int(e)
            if fixed == 1 << 31 { fixed /= 2; shift += 1 }
            if shift < -31 {
                XCTAssertEqual(m, .zero, "\(real) flushes")
                continue
            }
            XCTAssertEqual(m, QuantizedMultiplier(multiplier: Int32(fixed), shift: Int32(shift)), "\(real)")
            XCTAssertTrue((1 << 30 ... Int32.max).contains(m.multiplier), "\(real) -> \(m)")
            // Half an LSB of a 31-bit significand: |error| <= 2^(shift - 32).
            XCTAssertLessThanOrEqual(abs(m.realValue - real), pow(2, Double(m.shift) - 32), "\(real) -> \(m)")
        }
    }

    func testZeroFlushAndRenormalisation() {
        XCTAssertEqual(QuantizedMultiplier(0), .zero)
        XCTAssertEqual(QuantizedMultiplier(1e-10), .zero, "below 2^-32 flushes")
        XCTAssertEqual(QuantizedMultiplier(.leastNonzeroMagnitude), .zero)
        XCTAssertEqual(QuantizedMultiplier(0.9999999999), QuantizedMultiplier(multiplier: 1 << 30, shift: 1), "rounds to 2^31 and renormalises")
        XCTAssertEqual(QuantizedMultiplier(pow(2, -31)), QuantizedMultiplier(multiplier: 1 << 30, shift: -30))
        XCTAssertEqual(QuantizedMultiplier(1.0).realValue, 1.0)
        XCTAssertEqual(QuantizedMultiplier(0.3).realValue, 1288490189 * pow(2, -32))
    }

    func testSingleProfileCapsLargeShifts() {
        XCTAssertEqual(QuantizedMultiplier(pow(2, 29), for: .single), QuantizedMultiplier(multiplier: 1 << 30, shift: 30))
        XCTAssertEqual(QuantizedMultiplier(pow(2, 30), for: .gemmlowp), QuantizedMultiplier(multiplier: 1 << 30, shift: 31))
        XCTAssertEqual(QuantizedMultiplier(pow(2, 30), for: .single), QuantizedMultiplier(multiplier: .max, shift: 30))
        XCTAssertEqual(QuantizedMultiplier(1e10, for: .single), QuantizedMultiplier(multiplier: .max, shift: 30))
    }

    func testMakeThrowsForUntrustedValues() {
        func assertThrows(_ real: Double, _ expected: FixedPointError, profile: RoundingProfile = .gemmlowp,
                          file: StaticString = #filePath, line: UInt = #line) {
            do {
                let m = try QuantizedMultiplier.make(real, for: profile)
                XCTFail("make(\(real)) returned \(m)", file: file, line: line)
            } catch {
                XCTAssertEqual(error, expected, file: file, line: line)
                XCTAssertFalse(error.description.isEmpty, file: file, line: line)
            }
        }
        assertThrows(-0.5, .negativeMultiplier(-0.5))
        assertThrows(.infinity, .nonFiniteMultiplier(.infinity))
        assertThrows(pow(2, 30), .multiplierTooLarge(pow(2, 30), shift: 31))
        XCTAssertEqual(try QuantizedMultiplier.make(pow(2, 30), for: .single), QuantizedMultiplier(multiplier: .max, shift: 30))
        XCTAssertEqual(try QuantizedMultiplier.make(0.25), QuantizedMultiplier(0.25))
        XCTAssertThrowsError(try QuantizedMultiplier.make(.nan))
    }
}
