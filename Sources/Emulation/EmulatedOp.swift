import Dispatch
import Foundation

/// One executable op of the emulator: reads its activation inputs, writes its output, `batch` samples,
/// NHWC, every activation held as `Int32` within its element type.
protocol EmulatedOp: AnyObject {
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
/// `q = clamp(zout + round(acc * factors[c]))`, `factors[c] = s_x * s_w[c] / s_out` in Double.
struct RealRescale: Sendable {
    /// One per output channel (a per-tensor factor is repeated).
    let factors: [Double]
    let outputZero: Int32
    let lower: Int32, upper: Int32

    /// `acc` is exact (|acc| < 2^53, so `Double(acc)` is too); the product is the one Double rounding.
    @inline(__always)
    func apply(_ acc: Int64, channel: Int) -> Int32 {
        quantizeReal(Double(acc) * factors[channel], zero: outputZero, lower: lower, upper: upper)
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
