import FloatEngine

/// A fixed-size histogram of a stream of finite floats, as two halves: |x| of the negative values
/// and x of the non-negative ones, each `binsPerSide` bins over `[0, range]`.
///
/// `range` is always a power of two (or 0 before the first non-zero value) and at least the largest
/// |x| seen, so `range < 2 * absMax`: the occupied part `[0, absMax]` of each half spans more than
/// `binsPerSide / 2` bins. When a larger value arrives, the range doubles and adjacent bin pairs
/// merge (`bin[i] = bin[2i] + bin[2i+1]`) until it fits; samples are never kept.
///
/// Because `binsPerSide` and `range` are powers of two, `|x| * binsPerSide / range` is exact and a
/// bin edge before a doubling is a bin edge after it, so the counts do not depend on how the stream
/// was split into batches (only the order of additions differs). Bin `i` of a half covers
/// `[i w, (i + 1) w)` with `w = range / binsPerSide`. Exact zeros (`±0.0`) are counted apart in
/// `zeros`, not in bin 0: post-ReLU tensors put much of their mass there, zero is exactly
/// representable, and incrementing one counter for every other value serialises the loop on
/// store-to-load forwarding (measured: 19 -> 11 ns per value on half-zero data).
final class StreamingHistogram {
    let binsPerSide: Int
    private(set) var range: Float = 0
    private(set) var zeros: Int = 0
    /// `2 * binsPerSide` counts: negative half (bin i = |x| in bin i) first, then the non-negative half.
    private let counts: UnsafeMutablePointer<Int>

    /// `binsPerSide` is rounded up to a power of two, at least 2.
    init(binsPerSide: Int) {
        var bins = 2
        while bins < binsPerSide { bins *= 2 }
        self.binsPerSide = bins
        counts = .allocate(capacity: 2 * bins)
        counts.initialize(repeating: 0, count: 2 * bins)
    }

    deinit { counts.deallocate() }

    /// The smallest range: below it `binsPerSide / range` would overflow Float.
    static let smallestRange = Float(sign: .plus, exponent: -100, significand: 1)

    /// Bytes of bin storage: fixed at init.
    var storageByteCount: Int { 2 * binsPerSide * MemoryLayout<Int>.stride }

    /// Width of one bin (0 before the first non-zero value).
    var binWidth: Float { range / Float(binsPerSide) }

    /// Count of bin `bin` of the negative half (|x| in `[bin w, (bin+1) w)`, x < 0).
    func negative(_ bin: Int) -> Int { counts[bin] }
    /// Count of bin `bin` of the non-negative half (x in `[bin w, (bin+1) w)`, x != 0).
    func positive(_ bin: Int) -> Int { counts[binsPerSide + bin] }

    /// Values per chunk below which a batch is counted on one thread: a chunk must outweigh the
    /// ~20 us dispatch and the `2 * binsPerSide` additions that merge its partial counts.
    static let minimumChunk = 1 << 15

    /// Counts `values`, all finite with `|x| <= absMax` (the caller has computed `absMax`).
    ///
    /// A batch of at least `2 * minimumChunk` values is split into up to `Parallel.threadCount`
    /// contiguous chunks: chunk 0 counts into the histogram, every other chunk into its own zeroed
    /// partial counts, added afterwards. The counts are integers, so the result is exactly that of
    /// one sequential pass, whatever the number of threads or chunks.
    func add(_ values: UnsafeBufferPointer<Float>, absMax: Float) {
        if absMax > range { grow(toCover: absMax) }
        guard let base = values.baseAddress, values.count > 0 else { return }
        let n = values.count, side = binsPerSide
        // range == 0: every value is 0 (counted in `zeros`).
        let scale: Float = range > 0 ? Float(side) / range : 0
        let chunks = Swift.min(Parallel.workers, n / Self.minimumChunk)
        guard chunks > 1 else {
            zeros &+= Self.count(base, n, scale: scale, binsPerSide: side, into: counts)
            return
        }
        let binCount = 2 * side
        let partials = UnsafeMutablePointer<Int>.allocate(capacity: (chunks - 1) * binCount)
        partials.initialize(repeating: 0, count: (chunks - 1) * binCount)
        let chunkZeros = UnsafeMutablePointer<Int>.allocate(capacity: chunks)
        chunkZeros.initialize(repeating: 0, count: chunks)
        defer { partials.deallocate(); chunkZeros.deallocate() }
        let counts = self.counts
        Parallel.forEach(chunks) { chunk in
            let start = n &* chunk / chunks, end = n &* (chunk &+ 1) / chunks
            let target = chunk == 0 ? counts : partials + (chunk &- 1) &* binCount
            chunkZeros[chunk] = Self.count(base + start, end &- start, scale: scale, binsPerSide: side, into: target)
        }
        for chunk in 0..<chunks {
            zeros &+= chunkZeros[chunk]
            guard chunk > 0 else { continue }
            let partial = partials + (chunk &- 1) &* binCount
            for i in 0..<binCount { counts[i] &+= partial[i] }
        }
    }

    /// The hot loop of calibration, one scatter per activation value: adds the `n` values at `base`
    /// to `counts` (negative half, then non-negative half, `binsPerSide` bins each; bin =
    /// `min(|x| * scale, binsPerSide - 1)`) and returns how many were exactly 0 (left out of `counts`).
    private static func count(_ base: UnsafePointer<Float>, _ n: Int, scale: Float, binsPerSide side: Int,
                              into counts: UnsafeMutablePointer<Int>) -> Int {
        let last = side &- 1
        var zeroCount = 0
        for i in 0..<n {
            let v = base[i]
            if v == 0 { zeroCount &+= 1; continue }
            let scaled = v.magnitude * scale
            let bin = scaled < Float(last) ? Int(scaled) : last  // NaN and infinity to the last bin, not a trap
            counts[(v < 0 ? 0 : side) &+ bin] &+= 1
        }
        return zeroCount
    }

    /// Doubles `range` (merging bin pairs) until it is at least `absMax`; the first non-zero value
    /// sets it to the smallest power of two at or above `absMax`.
    private func grow(toCover absMax: Float) {
        if range == 0 {
            // Smallest power of two >= absMax: 2^exponent, once more if absMax is not a power of two.
            let power = Float(sign: .plus, exponent: absMax.exponent, significand: 1)
            // Floor at 2^-100 so `binsPerSide / range` stays finite for subnormal inputs.
            range = Swift.max(power < absMax ? power * 2 : power, Self.smallestRange)
            return  // every earlier value was 0, counted in `zeros`
        }
        var doublings = 0
        var newRange = range
        while newRange < absMax { newRange *= 2; doublings += 1 }
        for half in 0..<2 {
            let h = counts + half * binsPerSide
            for _ in 0..<doublings {
                for i in 0..<binsPerSide / 2 { h[i] = h[2 * i] &+ h[2 * i + 1] }
                for i in binsPerSide / 2..<binsPerSide { h[i] = 0 }
            }
        }
        range = newRange
    }
}
