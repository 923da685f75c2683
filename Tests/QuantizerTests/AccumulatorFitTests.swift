import QBin
import QCTestSupport
import XCTest
@testable import Quantizer

/// Raising a channel's weight scale brings its int32 accumulator bound under 2^31 - 1
/// (`docs/qbin-format.md`, section 5.3) and leaves the other channels alone.
final class AccumulatorFitTests: XCTestCase {
    /// The case: inputs in [-1, 1] at 8 bits (`s_x = 2 / 255`), 3 x 3 x 1 taps of tiny weights, and a
    /// bias near 2^31 steps of `s_x * s_w`. Channel 1 is ordinary.
    func testWidenedChannelFitsAndKeepsItsFunction() {
        var rng = SplitMix64(seed: 11)
        let rowLength = 9, channels = 2
        let w: [Float] = (0..<(rowLength * channels)).map { i in (i < rowLength ? 1e-4 : 0.3) * Float(rng.symmetric()) }
        let result = WeightQuantizer(bits: 8, perChannel: true, mseClip: false).quantize(w, channels: channels)
        let sx = 2.0 / 255
        // Channel 0: 5e9 steps of the original grid, far past int32 (a clamped bias would hide how far).
        func rounded(_ r: WeightQuantizer.Result) -> [Double] {
            let b = [Double(result.scales[0]) * sx * 5e9, 0.5]
            return (0..<channels).map { c in (b[c] / (sx * Double(r.scales[c]))).rounded(.toNearestOrAwayFromZero) }
        }
        func bias(_ r: WeightQuantizer.Result) -> [Int32] { rounded(r).map { Int32(min(max($0, -Double(Int32.max)), Double(Int32.max))) } }
        let fit = AccumulatorFit(products: rowLength, maxInput: 128)
        let over = fit.channelsOver(weights: result.values, bias: rounded(result), channels: channels)
        XCTAssertEqual(over.map(\.channel), [0])
        var r = result, rounds = 0
        while rounds < AccumulatorFit.maxAttempts {
            let over = fit.channelsOver(weights: r.values, bias: rounded(r), channels: channels)
            if over.isEmpty { break }
            r = fit.widened(r, rows: w, channels: channels, over: over, perChannel: true, bits: 8)
            rounds += 1
        }
        XCTAssertLessThanOrEqual(rounds, 2, "the factor comes from the unclamped bias: one round, two at most")
        XCTAssertLessThanOrEqual(fit.bound(weights: r.values, bias: bias(r), channels: channels), QAccumulatorBound.limit)
        XCTAssertEqual(r.scales[1], result.scales[1])
        XCTAssertEqual(Array(r.values[rowLength...]), Array(result.values[rowLength...]))
        XCTAssertGreaterThan(r.scales[0], result.scales[0])
        // The coarser grid still rounds to nearest: every weight within half a step.
        for j in 0..<rowLength { XCTAssertLessThanOrEqual(abs(w[j] - r.dequantized[j]), r.scales[0] / 2 * 1.0001) }
    }

    func testPerTensorScaleWidensEveryRow() {
        let w: [Float] = [0.001, -0.002, 0.0005, 0.003]
        let result = WeightQuantizer(bits: 4, perChannel: false, mseClip: false).quantize(w, channels: 2)
        let fit = AccumulatorFit(products: 2, maxInput: 255)
        let r = fit.widened(result, rows: w, channels: 2, over: [(1, 4 * Double(QAccumulatorBound.limit))], perChannel: false, bits: 4)
        XCTAssertEqual(r.scales.count, 1)
        XCTAssertEqual(Double(r.scales[0]), Double(result.scales[0]) * 4 * (1 + AccumulatorFit.margin), accuracy: 1e-9)
        XCTAssertEqual(r.values, w.map { Int32(min(max(($0 / r.scales[0]).rounded(.toNearestOrAwayFromZero), -7), 7)) })
    }
}
