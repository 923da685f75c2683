extension TensorStatistics {
    /// Steps of the coarse grid over the shrink factor α.
    static let mseCoarseSteps = 128
    /// Steps of the fine grid over `[α* - 1/coarse, α* + 1/coarse]` around the coarse optimum α*.
    static let mseFineSteps = 32

    /// Segments of the coarse search: the histogram merged to about this many pieces.
    static let mseCoarseSegments = 512

    /// `argmin_α quantizationMSE(α lo0, α hi0)` over α in (0, 1], with `[lo0, hi0]` the full range
    /// (so a non-negative tensor only moves its top, a signed one scales both ends together).
    /// Then, for a signed tensor, each end is refined on its own (the top with the bottom fixed, then
    /// the bottom), kept only if it lowers the error: with a common factor a one-sided outlier drags
    /// the other end in with it (Gaussian + one value at 100σ, 4 bits: [-0.66, 15.0] before).
    ///
    /// Every 1-D search (`lineSearch`): 128 steps α = k/128 on the histogram merged to ~512
    /// segments, then 33 steps over `[α* - 1/128, α* + 1/128]` at full resolution, where the winner
    /// is decided. It runs from α = 1 down and keeps the first of equal errors, so ties favour the
    /// wider range; α = 1 is always a candidate, so `mse` never loses to `minmax`.
    func mseSearch(bits: Int) -> (low: Float, high: Float) {
        let (lo0, hi0) = fullRange
        guard hi0 > lo0 else { return (lo0, hi0) }
        let fine = segments
        let coarse = Self.merged(fine, maxWidth: Double(hi0 - lo0) / Double(Self.mseCoarseSegments))
        func error(_ low: Double, _ high: Double, _ pieces: [Segment]) -> Double {
            let grid = QuantizationGrid(low: Float(low), high: Float(high), bits: bits)
            var total = 0.0
            for s in pieces { total += s.mass * grid.meanSquaredError(from: s.low, to: s.high) }
            return total
        }
        let (l0, h0) = (Double(lo0), Double(hi0))
        let common = Self.lineSearch(coarse: coarse, fine: fine) { a, pieces in error(a * l0, a * h0, pieces) }
        var best = (low: common.alpha * l0, high: common.alpha * h0, error: common.error)
        if lo0 < 0, hi0 > 0 {
            let top = Self.lineSearch(coarse: coarse, fine: fine) { a, pieces in error(best.low, a * h0, pieces) }
            let bottom = Self.lineSearch(coarse: coarse, fine: fine) { a, pieces in error(a * l0, top.alpha * h0, pieces) }
            if bottom.error < best.error { best = (bottom.alpha * l0, top.alpha * h0, bottom.error) }
        }
        return (Float(best.low), Float(best.high))
    }

    /// The α in (0, 1] minimising `error(α, segments)`: coarse steps on `coarse`, then fine steps
    /// around the coarse optimum on `fine` (see `mseSearch`). Returns α and its error on `fine`.
    static func lineSearch(coarse: [Segment], fine: [Segment],
                           _ error: (Double, [Segment]) -> Double) -> (alpha: Double, error: Double) {
        let steps = Double(mseCoarseSteps)
        var center = (alpha: 1.0, error: error(1, coarse))
        for k in stride(from: mseCoarseSteps - 1, through: 1, by: -1) {
            let alpha = Double(k) / steps
            let e = error(alpha, coarse)
            if e < center.error { center = (alpha, e) }
        }
        var best = (alpha: 1.0, error: error(1, fine))
        for k in 0...mseFineSteps {
            let alpha = center.alpha + 1 / steps - 2 / steps * Double(k) / Double(mseFineSteps)
            guard alpha > 0, alpha < 1 else { continue }
            let e = error(alpha, fine)
            if e < best.error { best = (alpha, e) }
        }
        return best
    }

    /// Merges neighbouring segments while the union is at most `maxWidth` wide (point masses stay
    /// apart), spreading the merged mass uniformly: the approximation the coarse search accepts.
    static func merged(_ pieces: [Segment], maxWidth: Double) -> [Segment] {
        var result: [Segment] = []
        for s in pieces {
            if let last = result.last, last.high > last.low, s.high > s.low, s.high - last.low <= maxWidth {
                result[result.count - 1] = Segment(low: last.low, high: s.high, mass: last.mass + s.mass)
            } else {
                result.append(s)
            }
        }
        return result
    }
}
