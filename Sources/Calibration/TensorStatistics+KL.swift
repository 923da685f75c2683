import Foundation

extension TensorStatistics {
    /// Candidate thresholds of the coarse KL search (at most about this many).
    static let klCoarseCandidates = 256
    /// Smoothing mass given to empty bins before the divergence (MXNet's `_smooth_distribution`).
    static let klSmoothing = 1e-4

    /// TensorRT entropy calibration (Migacz 2017; MXNet `_get_optimal_threshold`) on the histogram
    /// `h` of |x| (the two halves summed; a non-negative tensor has only the upper one).
    ///
    /// `q` quantized bins: `2^bits` for a non-negative tensor, `2^(bits-1)` for a signed one (the
    /// levels one sign gets). For each candidate `i` (bins kept) from `q` to `N` (the last occupied
    /// bin + 1): `P = h[0..<i]` with every count beyond added to `P[i-1]`; `Q` merges `h[0..<i]`
    /// into `q` groups of `i / q` bins (the last takes the rest) and spreads each group's total
    /// evenly over its non-empty bins. Both are smoothed, normalised, and the threshold is
    /// `i × w` for the `i` minimising `KL(P || Q) = Σ P log(P / Q)`.
    ///
    /// The reference histogram has `N >= bins` (>= 2048 by default) bins, so the quantized one is
    /// always much coarser: with one bin per level KL could only return `N` (min-max).
    /// Candidates step by `max(1, (N - q) / 256)` bins, then every bin within one step of the best.
    func klThreshold(bits: Int) -> Float {
        let full = absMax
        guard count > 0, full > 0 else { return 0 }
        let bins = histogram.binsPerSide
        var h = [Double](repeating: 0, count: bins)
        for b in 0..<bins { h[b] = Double(histogram.negative(b) + histogram.positive(b)) }
        guard let lastOccupied = h.lastIndex(where: { $0 > 0 }) else { return full }
        let n = lastOccupied + 1
        let q = 1 << (isNonNegative ? bits : Swift.max(bits - 1, 1))
        guard n > q else { return full }

        var prefix = [Double](repeating: 0, count: n + 1)
        var nonEmpty = [Int](repeating: 0, count: n + 1)
        for b in 0..<n {
            prefix[b + 1] = prefix[b] + h[b]
            nonEmpty[b + 1] = nonEmpty[b] + (h[b] > 0 ? 1 : 0)
        }
        var scratchP = [Double](repeating: 0, count: n), scratchQ = [Double](repeating: 0, count: n)
        func divergence(_ i: Int) -> Double {
            Self.klDivergence(kept: i, quantizedBins: q, h: h, prefix: prefix, nonEmpty: nonEmpty,
                              p: &scratchP, q: &scratchQ)
        }
        let step = Swift.max(1, (n - q) / Self.klCoarseCandidates)
        var best = (bins: n, kl: divergence(n))
        for i in stride(from: q, to: n, by: step) {
            let kl = divergence(i)
            if kl < best.kl { best = (i, kl) }
        }
        let center = best.bins
        for i in Swift.max(q, center - step)...Swift.min(n, center + step) where i != center {
            let kl = divergence(i)
            if kl < best.kl { best = (i, kl) }
        }
        return Swift.min(Float(best.bins) * histogram.binWidth, full)
    }

    /// `KL(P || Q)` of one candidate `kept` (see `klThreshold`); `p` and `q` are scratch of >= kept.
    private static func klDivergence(kept i: Int, quantizedBins levels: Int, h: [Double], prefix: [Double],
                                     nonEmpty: [Int], p: inout [Double], q: inout [Double]) -> Double {
        // P: the kept bins, outliers folded into the last one.
        for b in 0..<i { p[b] = h[b] }
        p[i - 1] += prefix[prefix.count - 1] - prefix[i]
        // Q: each group's total spread evenly over its non-empty bins.
        let width = i / levels
        for g in 0..<levels {
            let start = g * width, end = g == levels - 1 ? i : start + width
            let occupied = nonEmpty[end] - nonEmpty[start]
            let share = occupied > 0 ? (prefix[end] - prefix[start]) / Double(occupied) : 0
            for b in start..<end { q[b] = h[b] > 0 ? share : 0 }
        }
        smooth(&p, count: i)
        smooth(&q, count: i)
        var sumP = 0.0, sumQ = 0.0
        for b in 0..<i { sumP += p[b]; sumQ += q[b] }
        guard sumP > 0, sumQ > 0 else { return .infinity }
        var kl = 0.0
        for b in 0..<i where p[b] > 0 {
            kl += p[b] * log(p[b] / q[b])
        }
        // Σ (P/sP) log((P/sP) / (Q/sQ)) = (1/sP) Σ P log(P/Q) + log(sQ/sP)
        return kl / sumP + log(sumQ / sumP)
    }

    /// Gives each empty bin `ε` and takes the same total evenly from the non-empty ones.
    private static func smooth(_ d: inout [Double], count: Int) {
        var zeros = 0
        for b in 0..<count where d[b] == 0 { zeros += 1 }
        let nonZeros = count - zeros
        guard zeros > 0, nonZeros > 0 else { return }
        let take = klSmoothing * Double(zeros) / Double(nonZeros)
        for b in 0..<count { d[b] = d[b] == 0 ? klSmoothing : Swift.max(d[b] - take, klSmoothing) }
    }
}
