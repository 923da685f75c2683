import FixedPoint
import XCTest
@testable import Simulator

/// `ChannelRequantizer.requantizeRows` (the vectorised `qc_requant_rows`) lane for lane against
/// `RoundingProfile.multiply`, the scalar reference: every shift of -31...30, multipliers at 0, 1, 2^30,
/// 2^31 - 1 and Int32.min (the saturating case), accumulators at the int32 extremes, channel counts
/// that leave a scalar tail, and both profiles; lane groups with and without those unusual values (the
/// kernel hoists the usual case).
final class RequantRowsTests: XCTestCase {
    func testRowsMatchTheScalarMultiplyOnEveryLane() {
        var rng = TestRNG(seed: 23)
        let special: [Int32] = [0, 1, -1, Int32.min, Int32.max, Int32.min + 1, 1 << 30, -(1 << 30), 12345, -12345]
        for profile in RoundingProfile.allCases {
            for trial in 0..<80 {
                let channels = [1, 7, 8, 9, 16, 23, 31, 40][trial % 8]
                let rows = 1 + trial % 5
                // Trials 0..<40 mix the unusual multipliers and left shifts into every group of eight lanes;
                // trials 40..<80 keep to the usual case the kernels hoist (shift <= 0, no Int32.min).
                let usual = trial >= 40
                let multipliers = (0..<channels).map { j -> QuantizedMultiplier in
                    if usual {
                        let m: Int32 = [1, 1 << 30, Int32.max, -Int32.max, rng.int32((1 << 30)...(Int64(Int32.max)))][(trial + j) % 5]
                        return QuantizedMultiplier(multiplier: m, shift: -Int32((trial * 5 + j * 3) % 32)) // every shift of -31...0
                    }
                    let m: Int32 = [0, 1, 1 << 30, Int32.max, Int32.min, rng.int32((1 << 30)...(Int64(Int32.max)))][(trial + j) % 6]
                    let shift = Int32((trial * 7 + j * 3) % 62 - 31) // every shift of -31...30 over the trials
                    return QuantizedMultiplier(multiplier: m, shift: shift)
                }
                let lower = Int32(trial % 3 == 0 ? Int32.min : -128), upper = Int32(trial % 3 == 0 ? Int32.max : 127)
                let requant = ChannelRequantizer(profile: profile, multipliers: multipliers, outputZero: rng.int32(-300...300),
                                                 lower: lower, upper: upper)
                let ldc = channels + 3, outStride = channels + 5
                let c = (0..<rows * ldc).map { i in i % 4 == 0 ? special[(i / 4) % special.count] : rng.int32(Int64(Int32.min)...Int64(Int32.max)) }
                let bias = (0..<channels).map { j in j % 5 == 0 ? Int32.max : rng.int32(-100_000...100_000) }
                var out = [Int32](repeating: 0, count: rows * outStride)
                c.withUnsafeBufferPointer { c in
                    bias.withUnsafeBufferPointer { b in
                        out.withUnsafeMutableBufferPointer { o in
                            requant.requantizeRows(c.baseAddress!, ldc: ldc, rows: rows, channels: channels, bias: b.baseAddress!,
                                                   firstChannel: 0, into: o.baseAddress!, outStride: outStride)
                        }
                    }
                }
                for r in 0..<rows {
                    for j in 0..<channels {
                        let expected = requant.apply(c[r * ldc + j] &+ bias[j], channel: j)
                        XCTAssertEqual(out[r * outStride + j], expected,
                                       "\(profile) trial \(trial) row \(r) channel \(j): acc \(c[r * ldc + j]) + \(bias[j]), \(multipliers[j])")
                    }
                }
            }
        }
    }
}
