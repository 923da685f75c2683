import XCTest
@testable import FixedPoint

/// SplitMix64: a tiny seeded generator so every run and every machine draws the same cases.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// An int32 whose magnitude is spread over every bit length, not bunched near 2^31.
    mutating func spreadInt32() -> Int32 {
        Int32(truncatingIfNeeded: Int64(Int32.random(in: .min ... .max, using: &self)) >> Int64.random(in: 0...31, using: &self))
    }
}

/// Independent reference arithmetic: exact integer quotients with the tie rule applied by comparing the
/// remainder with half the divisor (no masks, no shifts of negative numbers).
enum Exact {
    /// `n / 2^k` rounded to nearest, ties toward +infinity.
    static func divideHalfUp(_ n: Int64, log2Divisor k: Int) -> Int64 {
        let d = Int64(1) << k
        var (q, r) = n.quotientAndRemainder(dividingBy: d) // truncating
        if r < 0 { q -= 1; r += d }                       // now floor, 0 <= r < d
        return 2 * r >= d ? q + 1 : q
    }

    /// `n / 2^k` rounded to nearest, ties away from zero.
    static func divideHalfAway(_ n: Int64, log2Divisor k: Int) -> Int64 {
        let d = Int64(1) << k
        let (q, r) = n.quotientAndRemainder(dividingBy: d)
        return r.magnitude * 2 >= UInt64(d) ? q + n.signum() : q
    }

    static func srdhm(_ a: Int32, _ b: Int32) -> Int32 {
        let v = divideHalfUp(Int64(a) * Int64(b), log2Divisor: 31)
        return v > Int64(Int32.max) ? .max : Int32(v)
    }

    static func gemmlowp(_ x: Int32, _ m: QuantizedMultiplier) -> Int32 {
        let left = Int(max(m.shift, 0)), right = Int(max(-m.shift, 0))
        let scaled = Int32(truncatingIfNeeded: Int64(x) * (Int64(1) << left)) // TFLite's int32 multiply wraps
        return Int32(divideHalfAway(Int64(srdhm(scaled, m.multiplier)), log2Divisor: right))
    }

    static func single(_ x: Int32, _ m: QuantizedMultiplier) -> Int32 {
        Int32(truncatingIfNeeded: divideHalfUp(Int64(x) * Int64(m.multiplier), log2Divisor: 31 - Int(m.shift)))
    }
}

func assertMultiply(_ profile: RoundingProfile, _ x: Int32, _ m: QuantizedMultiplier, equals expected: Int32,
                    _ context: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line) {
    let found = profile.multiply(x, by: m)
    if found != expected {
        XCTFail("\(profile).multiply(\(x), by: \(m)) = \(found), expected \(expected) \(context())", file: file, line: line)
    }
}
