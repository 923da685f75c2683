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

extension TensorStatistics {
    /// Share of the values (0...1) in each of `bins` equal bins over `[low, high]`, from the histogram (a
    /// histogram bin spread over several output bins in proportion to its overlap). Values outside the
    /// range are left out, so the shares sum to at most 1.
    public func shares(low: Double, high: Double, bins: Int) -> [Double] {
        var result = [Double](repeating: 0, count: Swift.max(bins, 1))
        guard count > 0, high > low else { return result }
        let width = (high - low) / Double(result.count)
        func bin(_ v: Double) -> Int { Swift.min(result.count - 1, Swift.max(0, Int(((v - low) / width).rounded(.down)))) }
        for s in segments {
            if s.high - s.low <= 0 {
                if s.low >= low && s.low <= high { result[bin(s.low)] += s.mass }
                continue
            }
            let a = Swift.max(s.low, low), b = Swift.min(s.high, high)
            guard b > a else { continue }
            for k in bin(a)...bin(b) {
                let lo = Swift.max(a, low + Double(k) * width), hi = Swift.min(b, low + Double(k + 1) * width)
                if hi > lo { result[k] += s.mass * (hi - lo) / (s.high - s.low) }
            }
        }
        return result.map { $0 / Double(count) }
    }
}
