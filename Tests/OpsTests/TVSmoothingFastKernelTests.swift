import FixedPoint
@testable import Ops
import QCore
import Simulator
import XCTest

/// `FastTVSmoothing` (first-step table, unsafe buffers, samples over threads) against the scalar
/// reference `ReferenceTVSmoothing`: equal outputs, bit for bit, at every input width, 0 ... 4 steps,
/// 1 and 2 threads, on random maps, constant maps, maps with one huge outlier and 1 x 1 maps.
final class TVSmoothingFastKernelTests: XCTestCase {
    func testFastKernelEqualsReference() {
        var rng = SplitMix64(seed: 11)
        var cases = 0
        for bits in 2...8 {
            let levels = Int32(1) << bits
            for (h, w, c) in [(5, 6, 3), (1, 1, 2), (7, 1, 1), (1, 9, 4), (9, 8, 2)] {
                for steps in 0...4 {
                    let f = TVSmoothingLimits.maxInputBits - bits
                    let unit = Double(Int64(1) << f)                       // one input step in units of u
                    let gamma = Int64(unit * (0.05 + 0.9 * rng.uniform()))  // 0.05 ... 0.95 input steps
                    let epsilon = Swift.max(1, Int64(16 * Double(gamma) * Double(gamma)))
                    let zero = Int32(rng.next() % UInt64(levels))
                    let p = TVSmoothingParams(height: h, width: w, channels: c, inputZero: zero, steps: steps, fractionBits: f,
                                              gamma: gamma, epsilon: epsilon)
                    let requant = ChannelRequantizer(profile: .gemmlowp,
                                                     multipliers: [QuantizedMultiplier(1 / unit * (0.5 + rng.uniform()))],
                                                     outputZero: Int32(rng.next() % 256), lower: 0, upper: 255)
                    let count = h * w * c, batch = 5
                    var input = (0..<batch * count).map { _ in Int32(rng.next() % UInt64(levels)) }
                    for i in 0..<count { input[i] = 3 % levels }                       // sample 0: constant
                    for i in 0..<count { input[count + i] = 0 }                        // sample 1: one outlier
                    input[count + Int(rng.next() % UInt64(count))] = levels - 1
                    let reference = run(ReferenceTVSmoothing(p, requant: requant), input, count: count, batch: batch, threads: 1)
                    let fast = FastTVSmoothing(p, requant: requant, inputBits: bits)
                    for threads in [1, 2] {
                        XCTAssertEqual(run(fast, input, count: count, batch: batch, threads: threads), reference,
                                       "\(bits) bits, [\(h), \(w), \(c)], \(steps) steps, \(threads) threads")
                    }
                    cases += 1
                }
            }
        }
        XCTAssertEqual(cases, 7 * 5 * 5)
    }

    private func run(_ layer: any IntegerLayer, _ input: [Int32], count: Int, batch: Int, threads: Int) -> [Int32] {
        var output = [Int32](repeating: -1, count: batch * count)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { layer.run(inputs: [x], output: $0, batch: batch, threads: threads) }
        }
        return output
    }
}
