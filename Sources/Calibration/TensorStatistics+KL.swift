import Foundation

extension TensorStatistics {
    /// Candidate thresholds of the coarse KL search (at most about this many).
    static let klCoarseCandidates = 256
    /// Count given to an empty last bin of Q that P needs (MXNet's `_smooth_distribution` epsilon).
    static let klSmoothing = 1e-4

    /// TensorRT entropy calibration (Migacz 2017; MXNet `_get_optimal_threshold`) on the histogram
    /// `h` of |x| (the two halves summed; a non-negative tensor has only the upper one).
    ///
    /// `q` quantized bins: `2^bits` for a non-negative tensor, `2^(bits-1)` for a signed one (the
    /// levels one sign gets). For each candidate `i` (bins kept) from `q` to `N` (the last occupied
    /// bin + 1): `P = h[0..<i]` with every count beyond added to `P[i-1]`; `Q` merges `h[0..<i]`
    /// into `q` groups of `⌊i / q⌋` bins (the last takes the rest) and spreads each group's total
    /// evenly over its non-empty bins. The threshold is `i × w` for the `i` minimising
    /// `KL(P̂ || Q̂) = Σ P̂ log(P̂ / Q̂)` of the normalised distributions.
    ///
    /// The reference histogram has `N >= bins` (>= 2048 by default) bins, so the quantized one is
    /// always much coarser: with one bin per level KL could only return `N` (min-max).
    ///
    /// Exact zeros are not in `h` (the histogram counts them apart): they quantize exactly at any
    /// threshold, and as a spike in bin 0 (half of a post-ReLU tensor) the even spreading of Q's first group would penalise every
    /// candidate whose first group spans more than one bin, driving the threshold to `q` bins.
    ///
    /// Cost: `Q` is constant on the non-empty bins of a group, so `Σ P log Q = Σ_g T_g log(T_g / n_g)`
    /// (group total `T_g`, `n_g` non-empty bins) plus the outlier term, and `Σ P log P` is a prefix
    /// sum: O(q) per candidate. Candidates step by `max(1, (N - q) / 256)` bins, then every bin
    /// within one step of the best.
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

        let table = KLTable(h: h[0..<n])
        let step = Swift.max(1, (n - q) / Self.klCoarseCandidates)
        var best = (bins: n, kl: table.divergence(kept: n, groups: q))
        for i in stride(from: q, to: n, by: step) {
            let kl = table.divergence(kept: i, groups: q)
            if kl < best.kl { best = (i, kl) }
        }
        let center = best.bins
        for i in Swift.max(q, center - step)...Swift.min(n, center + step) where i != center {
            let kl = table.divergence(kept: i, groups: q)
            if kl < best.kl { best = (i, kl) }
        }
        return Swift.min(Float(best.bins) * histogram.binWidth, full)
    }
}

/// Prefix sums of a histogram `h` that make one KL candidate O(groups).
struct KLTable {
    /// `mass[b] = Σ h[0..<b]`.
    let mass: [Double]
    /// `entropy[b] = Σ h log h over [0..<b]` (0 log 0 = 0).
    let entropy: [Double]
    /// `occupied[b]` = number of non-empty bins in `[0..<b]`.
    let occupied: [Int]
    let h: [Double]

    init(h: ArraySlice<Double>) {
        self.h = Array(h)
        var mass = [0.0], entropy = [0.0], occupied = [0]
        for v in h {
            mass.append(mass.last! + v)
            entropy.append(entropy.last! + (v > 0 ? v * log(v) : 0))
            occupied.append(occupied.last! + (v > 0 ? 1 : 0))
        }
        self.mass = mass; self.entropy = entropy; self.occupied = occupied
    }

    /// `KL(P̂ || Q̂)` keeping `i` bins quantized to `groups` groups (see `klThreshold`):
    /// `(1/n) (Σ P log P - Σ P log Q) + log(S_Q / n)`, `n = Σ P` (all values), `S_Q = Σ Q`.
    func divergence(kept i: Int, groups: Int) -> Double {
        let total = mass[mass.count - 1]
        let outliers = total - mass[i]
        let last = h[i - 1]
        let lastP = last + outliers
        // Σ P log P: the untouched bins from the prefix, the last bin with its outliers.
        var pLogP = entropy[i - 1] + (lastP > 0 ? lastP * log(lastP) : 0)
        // Σ P log Q over the groups, where Q = T_g / n_g on the non-empty bins of group g.
        let width = i / groups
        var pLogQ = 0.0, lastQ = 0.0
        for g in 0..<groups {
            let start = g * width, end = g == groups - 1 ? i : start + width
            let t = mass[end] - mass[start]
            let nonEmpty = occupied[end] - occupied[start]
            guard nonEmpty > 0 else { continue }
            let share = t / Double(nonEmpty)
            pLogQ += t * log(share)
            if g == groups - 1 { lastQ = share }
        }
        var sumQ = mass[i]
        if outliers > 0 {
            if last > 0 {
                pLogQ += outliers * log(lastQ)
            } else {
                // Q is empty where P holds the outliers: smooth that bin (MXNet gives every empty
                // bin ε; the others contribute nothing to Σ P log(P/Q)).
                pLogQ += outliers * log(TensorStatistics.klSmoothing)
                sumQ += TensorStatistics.klSmoothing
            }
        }
        guard total > 0, sumQ > 0 else { return .infinity }
        return (pLogP - pLogQ) / total + log(sumQ / total)
    }
}
