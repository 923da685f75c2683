import Dispatch
import Foundation

/// One executable op of the emulator: reads its activation inputs, writes its output, `batch` samples,
/// NHWC, every activation held as `Int32` within its element type.
public protocol EmulatedOp: AnyObject {
    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int)
}

/// The emulator's one rounding rule, in place of the runtime's fixed-point `requant`:
///
///     q = clamp(zout + round(value), lower, upper)     round: nearest, ties away from zero
///
/// `value` is the real-valued rescaled accumulator (`acc * s_x * s_w[c] / s_out`, computed in Double).
@inline(__always)
func quantizeReal(_ value: Double, zero: Int32, lower: Int32, upper: Int32) -> Int32 {
    let q = value.rounded(.toNearestOrAwayFromZero) + Double(zero)
    return Int32(Swift.min(Swift.max(q, Double(lower)), Double(upper)))
}

/// Per output channel real rescale of an exact integer accumulator:
/// `q = clamp(zout + round(acc * factors[c]))`, `factors[c] = s_x * s_w[c] / s_out` in Double, its
/// significand rounded to the 31 bits a fixed-point multiplier holds (`f = m 2^e`, `m` in `[0.5, 1)`
/// a multiple of 2^-31): without it, int32 outputs (logits, ~2^23 steps wide) would differ from the
/// runtime by one step on ~2^-8 of their values.
///
/// Under the `gemmlowp` profile the value is rounded twice, as that runtime does: first to the grid
/// `2^-r` of the output step (ties toward +inf), then to the step (ties away from zero), with `r` the
/// right shift the factor's fixed-point form `f = m 2^-r`, `m` in `[0.5, 1)`, needs (docs/numerics.md):
///
///     q = clamp(zout + round(floor(acc * f * 2^r + 1/2) / 2^r))
///
/// `r` is derived from the factor here, not read from the file's `shift` attribute.
public struct RealRescale: Sendable {
    /// One per output channel (a per-tensor factor is repeated).
    let factors: [Double]
    let outputZero: Int32
    let lower: Int32, upper: Int32
    /// `2^r` per channel under double rounding; nil = one rounding.
    let firstGrid: [Double]?

    init(factors: [Double], outputZero: Int32, lower: Int32, upper: Int32, doubleRounding: Bool) {
        self.factors = factors.map(Self.fixedPointFactor)
        self.outputZero = outputZero; self.lower = lower; self.upper = upper
        firstGrid = doubleRounding ? factors.map { Self.firstGrid(of: $0) } : nil
    }

    /// `factor` with its significand rounded to 31 bits (ties away from zero), as the multiplier is.
    static func fixedPointFactor(_ factor: Double) -> Double {
        guard factor > 0, factor.isFinite else { return factor }
        let e = Int(factor.exponent) + 1
        let m = (factor.significand / 2 * 2_147_483_648).rounded(.toNearestOrAwayFromZero) // 2^30 ... 2^31
        return m * Double(sign: .plus, exponent: e - 31, significand: 1)
    }

    /// `2^r` for factor `f = m 2^e`, `m` in `[0.5, 1)` (`m` rounded to 31 bits, as the multiplier is),
    /// `r = max(0, -e)`, at most 31.
    static func firstGrid(of factor: Double) -> Double {
        guard factor > 0, factor.isFinite else { return 1 }
        var e = Int(factor.exponent) + 1 // factor = (significand / 2) * 2^(exponent + 1)
        if (factor.significand / 2 * 2_147_483_648).rounded(.toNearestOrAwayFromZero) == 2_147_483_648 { e += 1 }
        return Double(sign: .plus, exponent: Swift.min(Swift.max(-e, 0), 31), significand: 1)
    }

    /// `acc` is exact (|acc| < 2^53, so `Double(acc)` is too); the product is one Double rounding.
    @inline(__always)
    public func apply(_ acc: Int64, channel: Int) -> Int32 {
        let value = Double(acc) * factors[channel]
        guard let grid = firstGrid?[channel] else { return quantizeReal(value, zero: outputZero, lower: lower, upper: upper) }
        return quantizeReal((value * grid + 0.5).rounded(.down) / grid, zero: outputZero, lower: lower, upper: upper)
    }
}

/// Exact `sum_i a[i] * b[i]` of integer vectors. Products are summed in Int32 blocks of `block`
/// elements, `block * max|a| * max|b| < 2^31` (the caller's bound), and the blocks in Int64, so the
/// inner loop vectorises and the result never wraps.
@inline(__always)
func exactDot(_ a: UnsafePointer<Int32>, _ b: UnsafePointer<Int32>, count: Int, block: Int) -> Int64 {
    var total: Int64 = 0
    var start = 0
    while start < count {
        let end = Swift.min(count, start &+ block)
        var partial: Int32 = 0
        for i in start..<end { partial &+= a[i] &* b[i] }
        total &+= Int64(partial)
        start = end
    }
    return total
}

/// The longest run of products `|a| <= maxA`, `|b| <= maxB` whose Int32 sum cannot overflow.
func safeBlock(maxA: Int64, maxB: Int64) -> Int {
    let product = Swift.max(1, maxA * maxB)
    return Int(Swift.max(1, Int64(Int32.max) / product))
}

/// Runs `body` over `0..<count` in contiguous chunks, one per core, when the work (`count * costPerItem`
/// multiply-adds) is worth the ~25 us a `concurrentPerform` costs; serially otherwise.
func parallelChunks(_ count: Int, costPerItem: Int, _ body: (Range<Int>) -> Void) {
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let chunks = Swift.min(cores, count)
    guard chunks > 1, count.multipliedReportingOverflow(by: costPerItem).partialValue > 200_000 else {
        body(0..<count)
        return
    }
    let perChunk = (count + chunks - 1) / chunks
    withoutActuallyEscaping(body) { body in
        // Chunks write disjoint outputs; the body only reads shared state.
        let shared = SendableBox(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { i in
            let start = i * perChunk, end = Swift.min(count, start + perChunk)
            if start < end { shared.value(start..<end) }
        }
    }
}

/// A value handed to worker threads that only read it (or write disjoint parts of what it points to).
struct SendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
