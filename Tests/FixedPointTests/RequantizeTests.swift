import XCTest
@testable import FixedPoint

/// The batch entry points are the scalar `multiply` applied element by element, for every output type.
final class RequantizeTests: XCTestCase {
    func testInPlaceMultiplyEqualsScalar() {
        var rng = SplitMix64(seed: 21)
        for profile in RoundingProfile.allCases {
            for shift in QuantizedMultiplier.supportedShifts {
                let m = QuantizedMultiplier(multiplier: Int32.random(in: (1 << 30) ... .max, using: &rng), shift: shift)
                let input = (0..<257).map { _ in rng.spreadInt32() }
                var values = input
                values.withUnsafeMutableBufferPointer { profile.multiply($0, by: m) }
                XCTAssertEqual(values, input.map { profile.multiply($0, by: m) }, "\(profile) \(m)")
            }
        }
    }

    func testPerChannelRequantizeEqualsScalar() {
        var rng = SplitMix64(seed: 22)
        for profile in RoundingProfile.allCases {
            for channels in [1, 3, 8, 17] {
                let multipliers = (0..<channels).map { c in
                    c == 1 ? QuantizedMultiplier.zero
                        : QuantizedMultiplier(Double.random(in: 0.5..<1, using: &rng) * pow(2, Double(Int.random(in: -20...3, using: &rng))))
                }
                let acc = (0..<(channels * 29)).map { _ in Int32.random(in: -(1 << 22) ... (1 << 22), using: &rng) }
                check(profile, acc, channels, multipliers, zeroPoint: -5, Int8.self, -128, 127)
                check(profile, acc, channels, multipliers, zeroPoint: 128, UInt8.self, 0, 255)
                check(profile, acc, channels, multipliers, zeroPoint: 0, Int8.self, 0, 6) // fused ReLU6 range
                check(profile, acc, channels, multipliers, zeroPoint: 3, Int32.self, .min, .max)
            }
        }
    }

    private func check<Output: FixedWidthInteger>(
        _ profile: RoundingProfile, _ acc: [Int32], _ channels: Int, _ multipliers: [QuantizedMultiplier],
        zeroPoint: Int32, _: Output.Type, _ lo: Int32, _ hi: Int32, file: StaticString = #filePath, line: UInt = #line
    ) {
        var out = [Output](repeating: 0, count: acc.count)
        acc.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { o in
                profile.requantize(a, channels: channels, multipliers: multipliers, outputZeroPoint: zeroPoint, min: lo, max: hi, into: o)
            }
        }
        for i in acc.indices {
            let v = profile.multiply(acc[i], by: multipliers[i % channels]) &+ zeroPoint
            let expected = Output(min(max(v, lo), hi))
            if out[i] != expected {
                return XCTFail("\(profile) \(Output.self) channels \(channels) index \(i): \(out[i]) != \(expected)", file: file, line: line)
            }
        }
    }
}
