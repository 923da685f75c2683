/// Streaming statistics of one activation tensor (values of NHWC batches, channels = last axis).
///
/// Memory is fixed at init: running min/max, central moments (`Moments`), per-channel sums and a
/// `StreamingHistogram` of `2 * bins` bins per sign, so the occupied range `[0, absMax]` of |x|
/// always spans at least `bins` bins. Non-finite values (NaN, ±inf) are counted in
/// `nonFiniteCount` and otherwise ignored (they add 0 to their channel's sum).
public final class TensorStatistics {
    public let channels: Int
    let histogram: StreamingHistogram
    private(set) var moments = Moments()
    private var channelSums: [Double]
    /// Least and largest value seen in each last-axis channel (+inf / -inf before any row).
    public private(set) var channelMins: [Float]
    public private(set) var channelMaxs: [Float]
    private var rows = 0
    public private(set) var min: Float = .infinity
    public private(set) var max: Float = -.infinity
    /// Values that were NaN or infinite (left out of every statistic).
    public private(set) var nonFiniteCount = 0
    /// The histogram in ascending order of value, built on first use after a change.
    private var cachedSegments: [Segment]?

    /// `bins` is the least number of histogram bins over `[0, absMax]` of |x| (rounded up to a power of two).
    public init(channels: Int, bins: Int = 2048) {
        self.channels = Swift.max(1, channels)
        histogram = StreamingHistogram(binsPerSide: 2 * Swift.max(bins, 2))
        channelSums = [Double](repeating: 0, count: self.channels)
        channelMins = [Float](repeating: .infinity, count: self.channels)
        channelMaxs = [Float](repeating: -.infinity, count: self.channels)
    }

    /// Adds a batch of values; `values.count` must be a multiple of `channels` (whole rows, channel
    /// fastest).
    public func add(_ values: UnsafeBufferPointer<Float>) {
        precondition(values.count % channels == 0, "TensorStatistics.add: \(values.count) values are not whole rows of \(channels) channels")
        guard values.count > 0 else { return }
        cachedSegments = nil
        let summary = BatchSummary(values)
        guard summary.allFinite else { return addFiltered(values) }
        addFinite(values, summary: summary)
        addChannelSums(values)
    }

    /// Number of finite values added.
    public var count: Int { Int(moments.count) }
    public var mean: Double { moments.mean }
    /// Population variance.
    public var variance: Double { moments.variance }
    /// Excess kurtosis `E[(x-μ)^4] / σ^4 - 3`, from the 4th central moment (0 for a constant tensor).
    public var kurtosis: Double { moments.excessKurtosis }
    public var absMax: Float { count > 0 ? Swift.max(Swift.abs(min), Swift.abs(max)) : 0 }
    /// `min >= 0` (true for an empty tensor).
    public var isNonNegative: Bool { count == 0 || min >= 0 }
    /// Mean of each last-axis channel (bias correction uses it).
    public var channelMeans: [Double] {
        let n = Double(Swift.max(rows, 1))
        return channelSums.map { $0 / n }
    }
    /// Bytes of histogram storage: fixed at init, whatever the number of values added.
    public var histogramByteCount: Int { histogram.storageByteCount }

    // MARK: - Adding

    private func addFinite(_ values: UnsafeBufferPointer<Float>, summary: BatchSummary) {
        min = Swift.min(min, summary.min)
        max = Swift.max(max, summary.max)
        moments.merge(summary.centralMoments(values))
        histogram.add(values, absMax: Swift.max(Swift.abs(summary.min), Swift.abs(summary.max)))
    }

    /// Per-channel sums, minima and maxima in a row-major loop: the inner loop over channels has no
    /// carried dependency and vectorises.
    private func addChannelSums(_ values: UnsafeBufferPointer<Float>) {
        let c = channels, batchRows = values.count / c
        channelSums.withUnsafeMutableBufferPointer { sums in
            channelMins.withUnsafeMutableBufferPointer { lows in
                channelMaxs.withUnsafeMutableBufferPointer { highs in
                    var offset = 0
                    for _ in 0..<batchRows {
                        for k in 0..<c {
                            let v = values[offset &+ k]
                            sums[k] += Double(v)
                            lows[k] = Swift.min(lows[k], v)
                            highs[k] = Swift.max(highs[k], v)
                        }
                        offset &+= c
                    }
                }
            }
        }
        rows += batchRows
    }

    /// Channels whose every calibration value was the same (a ReLU channel that never fired, a
    /// zero-variance channel), with that value; channels with no finite value are left out.
    public var constantChannels: [(channel: Int, value: Float)] {
        guard rows > 0 else { return [] }
        return (0..<channels).compactMap { k in
            channelMins[k] == channelMaxs[k] && channelMins[k].isFinite ? (k, channelMins[k]) : nil
        }
    }

    /// Slow path for a batch holding NaN or infinities: statistics of the finite values only.
    private func addFiltered(_ values: UnsafeBufferPointer<Float>) {
        var finite: [Float] = []
        finite.reserveCapacity(values.count)
        var cleaned = [Float](values)
        for i in cleaned.indices {
            if cleaned[i].isFinite { finite.append(cleaned[i]) } else { cleaned[i] = 0; nonFiniteCount += 1 }
        }
        if !finite.isEmpty {
            finite.withUnsafeBufferPointer { addFinite($0, summary: BatchSummary($0)) }
        }
        cleaned.withUnsafeBufferPointer { addChannelSums($0) }
    }

    // MARK: - The histogram as a distribution

    /// One occupied piece of the value line: `mass` values spread uniformly over `[low, high]`
    /// (a point mass when `low == high`).
    struct Segment: Equatable {
        var low: Double
        var high: Double
        var mass: Double
    }

    /// The histogram in ascending order: negative bins from the most negative, the exact zeros as a
    /// point mass, then the non-negative bins; bin edges clamped to `[min, max]` so no mass is
    /// placed where no value was seen. Empty bins are left out.
    var segments: [Segment] {
        if let cached = cachedSegments { return cached }
        var result: [Segment] = []
        guard count > 0 else { return result }
        let w = Double(histogram.binWidth), lo = Double(min), hi = Double(max)
        let bins = histogram.binsPerSide
        func append(_ a: Double, _ b: Double, _ mass: Int) {
            guard mass > 0 else { return }
            let low = Swift.min(Swift.max(a, lo), hi), high = Swift.max(Swift.min(b, hi), lo)
            result.append(Segment(low: low, high: Swift.max(low, high), mass: Double(mass)))
        }
        for bin in stride(from: bins - 1, through: 0, by: -1) {
            append(-Double(bin + 1) * w, -Double(bin) * w, histogram.negative(bin))
        }
        append(0, 0, histogram.zeros)
        append(0, w, histogram.positive(0))
        for bin in 1..<bins {
            append(Double(bin) * w, Double(bin + 1) * w, histogram.positive(bin))
        }
        cachedSegments = result
        return result
    }

    /// The `p`-th percentile (p in 0...100) of the values, interpolated linearly inside a bin.
    public func percentile(_ p: Double) -> Float {
        guard count > 0 else { return 0 }
        let rank = Swift.min(Swift.max(p, 0), 100) / 100 * Double(count)
        var below = 0.0
        for s in segments {
            if below + s.mass >= rank {
                let fraction = s.mass > 0 ? (rank - below) / s.mass : 0
                let value = Float(s.low + (s.high - s.low) * fraction)
                return Swift.min(Swift.max(value, min), max)
            }
            below += s.mass
        }
        return max
    }
}
