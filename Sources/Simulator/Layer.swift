import QCore
import Dispatch
import FixedPoint

/// One executable op: reads its input activations, writes its output, `batch` samples, NHWC, each
/// activation stored as `Int32` (values are always within the tensor's element type). `output` is not
/// initialized: `run` must write every one of its values.
public protocol IntegerLayer: AnyObject {
    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int)
}

/// Per output channel requantization: `q = clamp(zout + profile.multiply(acc, m[c]), lo, hi)`.
/// The steps in TFLite's order: multiplier (with the profile's rounding), output offset (an int32 add
/// that wraps, as the reference's), clamp.
public struct ChannelRequantizer: Sendable {
    public let profile: RoundingProfile
    /// One per output channel (a per-tensor multiplier is repeated).
    let multipliers: [QuantizedMultiplier]
    let outputZero: Int32
    let lower: Int32, upper: Int32
    /// `multipliers` as two flat arrays, for the vectorised row kernel (`qc_requant_rows`).
    let significands: [Int32]
    let shifts: [Int32]

    public init(profile: RoundingProfile, multipliers: [QuantizedMultiplier], outputZero: Int32, lower: Int32, upper: Int32) {
        self.profile = profile
        self.multipliers = multipliers
        self.outputZero = outputZero
        self.lower = lower
        self.upper = upper
        significands = multipliers.map(\.multiplier)
        shifts = multipliers.map(\.shift)
    }

    @inline(__always)
    public func apply(_ acc: Int32, channel: Int) -> Int32 {
        let scaled = profile.multiply(acc, by: multipliers[channel]) &+ outputZero
        return Swift.min(Swift.max(scaled, lower), upper)
    }
}

/// Splits `0..<count` into `threads` contiguous chunks (lengths multiples of `alignment` except the
/// last) and runs `body` on each, in parallel when there is more than one (`WorkerThreads.run`).
@inline(__always)
func parallelChunks(_ count: Int, threads: Int, alignment: Int = 1, _ body: (Range<Int>) -> Void) {
    let chunks = Swift.max(1, Swift.min(threads, (count + alignment - 1) / Swift.max(alignment, 1)))
    if chunks == 1 { body(0..<count); return }
    let units = (count + alignment - 1) / alignment
    let perChunk = (units + chunks - 1) / chunks * alignment
    // The chunks write disjoint rows; the body only reads shared state.
    WorkerThreads.run(chunks) { i in
        let start = i * perChunk, end = Swift.min(count, start + perChunk)
        if start < end { body(start..<end) }
    }
}

/// A value handed to worker threads that only read it (or write disjoint parts).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
