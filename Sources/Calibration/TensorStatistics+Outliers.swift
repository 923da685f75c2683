extension TensorStatistics {
    /// Share of the values (0...1) below `low` or above `high`, from the histogram (a value inside a bin
    /// counts in proportion to the bin's part outside the range): the share a clip range `[low, high]` clips.
    public func fractionOutside(low: Float, high: Float) -> Double {
        guard count > 0 else { return 0 }
        var outside = 0.0
        let lo = Double(low), hi = Double(high)
        for s in segments {
            let width = s.high - s.low
            if width <= 0 {
                if s.low < lo || s.low > hi { outside += s.mass }
                continue
            }
            let below = Swift.max(0, Swift.min(s.high, lo) - s.low), above = Swift.max(0, s.high - Swift.max(s.low, hi))
            outside += s.mass * Swift.min(1, (below + above) / width)
        }
        return outside / Double(count)
    }
}
