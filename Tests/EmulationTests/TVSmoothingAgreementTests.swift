import Emulation
import FixedPoint
@testable import Ops
import QBin
import QCore
import Simulator
import XCTest

/// `tvSmoothing`: the simulator's fixed-point flow (Newton inverse square root, fixed-point requantize)
/// against the emulated twin's real arithmetic, per op on the simulator's own inputs, over input and
/// output widths 2 ... 8 and both rounding profiles.
final class TVSmoothingAgreementTests: XCTestCase {
    override func setUp() { OpRegistry.install() }

    func testTVSmoothingAgrees() throws {
        var rng = TestRNG(seed: 47)
        var totals: [RoundingProfile: Agreement] = [:]
        for bits in 2...8 {
            for trial in 0..<4 {
                let shape = [rng.int(1...8), rng.int(1...8), rng.int(1...4)]
                var b = ModelBuilder()
                let inType = rng.bool() ? u8 : s8
                let x = b.input(shape, inType, scale: Float(rng.double(0.01, 0.1)), zero: rng.int32(inType.minValue...inType.maxValue))
                let (outType, outZero) = randomActivation(&rng, bits: bits)
                let outScale = b.scale(x) * 255 / Double(outType.maxValue - outType.minValue) * rng.double(0.6, 1.5)
                let y = b.activation("y", shape, outType, scale: Float(outScale), zero: outZero)
                let steps = rng.int(1...6), f = 23 - inType.bits
                let unit = b.scale(x) / Double(1 << f)
                let gamma = b.scale(x) * 255 * rng.double(0.002, 0.04)
                let g = Int64((gamma / unit).rounded()), e = max(1, 16 * g * g)
                b.op(TVSmoothingKind.kind, [x], y, b.requant([unit / outScale], clamp: randomClamp(&rng, outType, zero: outZero), output: y)
                    .merging(["steps": [Int32(steps)], "fraction_bits": [Int32(f)], "gamma": [Int32(g)],
                              "epsilon": [Int32(e >> 31), Int32(e & 0x7fff_ffff)]]) { _, new in new })
                let agreement = try compareWithSimulator(b.finished(outputs: [y]), batch: 3, seed: UInt64(bits * 100 + trial))
                assertAgrees(agreement, "tvSmoothing bits \(bits) trial \(trial) \(shape) steps \(steps)")
                for (p, a) in agreement { totals[p, default: Agreement()].add(a) }
            }
        }
        print("[emulation] tvSmoothing: single \(totals[.single]!), gemmlowp \(totals[.gemmlowp]!)")
    }
}
