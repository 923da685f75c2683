extension TensorStatistics {
    /// Steps of the coarse grid over the shrink factor α.
    static let mseCoarseSteps = 128
    /// Steps of the fine grid over `[α* - 1/coarse, α* + 1/coarse]` around the coarse optimum α*.
    static let mseFineSteps = 32

    /// `argmin_α quantizationMSE(α lo0, α hi0)` over α in (0, 1], with `[lo0, hi0]` the full range
    /// (so a non-negative tensor only moves its top, a signed one scales both ends together):
    /// 128 steps of 1/128, then 32 steps across the two neighbouring coarse cells. The search runs
    /// from α = 1 down and keeps the first of equal errors, so ties favour the wider range.
    func mseSearch(bits: Int) -> (low: Float, high: Float) {
        let (lo0, hi0) = fullRange
        guard hi0 > lo0 else { return (lo0, hi0) }
        func error(_ alpha: Double) -> Double {
            quantizationMSE(low: Float(alpha * Double(lo0)), high: Float(alpha * Double(hi0)), bits: bits)
        }
        let coarse = Double(Self.mseCoarseSteps)
        var best = (alpha: 1.0, error: error(1))
        for k in stride(from: Self.mseCoarseSteps - 1, through: 1, by: -1) {
            let alpha = Double(k) / coarse
            let e = error(alpha)
            if e < best.error { best = (alpha, e) }
        }
        let center = best.alpha
        for k in 0...Self.mseFineSteps {
            let alpha = center + 1 / coarse - 2 / coarse * Double(k) / Double(Self.mseFineSteps)
            guard alpha > 0, alpha <= 1 else { continue }
            let e = error(alpha)
            if e < best.error { best = (alpha, e) }
        }
        return (Float(best.alpha * Double(lo0)), Float(best.alpha * Double(hi0)))
    }
}
