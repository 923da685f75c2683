import FixedPoint
import XCTest

/// `fixedPointInverseSquareRoot` against Double's `1 / sqrt`.
final class InverseSquareRootTests: XCTestCase {
    /// Relative error bound of docs/numerics.md section 7.
    static let maxRelativeError = 0x1p-27

    func relativeError(_ n: Int64) -> Double {
        let (r, e) = fixedPointInverseSquareRoot(n)
        let got = Double(r) * Double(sign: .plus, exponent: -(30 + e), significand: 1)
        let exact = 1 / Double(n).squareRoot()
        return abs(got - exact) / exact
    }

    func testSmallArgumentsExhaustively() {
        var worst = 0.0
        for n in Int64(1)..<(1 << 16) { worst = max(worst, relativeError(n)) }
        print("[isqrt] n < 2^16: largest relative error \(worst) (2^\(String(format: "%.1f", log2(worst))))")
        XCTAssertLessThan(worst, Self.maxRelativeError)
    }

    func testPowersOfTwoAndNeighboursAndRandom() {
        var worst = 0.0
        for k in 0..<62 {
            let p = Int64(1) << k
            for n in [p - 1, p, p + 1] where n >= 1 && n < (1 << 62) { worst = max(worst, relativeError(n)) }
        }
        var state: UInt64 = 91
        for _ in 0..<200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let bits = Int(state >> 58) + 1 // 1...64, taken down to 62
            let n = Int64(truncatingIfNeeded: state >> 2) >> (62 - min(bits, 62))
            if n >= 1 { worst = max(worst, relativeError(n)) }
        }
        print("[isqrt] powers of two and random n < 2^62: largest relative error \(worst)")
        XCTAssertLessThan(worst, Self.maxRelativeError)
    }

    func testNeverAboveByMoreThanOneStep() {
        for n: Int64 in [1, 2, 3, 4, 5, 1000, 65535, 1 << 40, (1 << 62) - 1] {
            let (r, e) = fixedPointInverseSquareRoot(n)
            let exactScaled = Double(sign: .plus, exponent: 30 + e, significand: 1) / Double(n).squareRoot()
            XCTAssertLessThanOrEqual(Double(r), exactScaled + 1, "n = \(n)")
        }
    }
}
