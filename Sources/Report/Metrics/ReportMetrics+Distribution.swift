import Foundation

extension ReportMetrics {
    /// The `p`-th percentile (0 ... 100) with linear interpolation between closest ranks (NumPy's
    /// default): with `s` sorted and `h = (n − 1) · p / 100`, `s[⌊h⌋] + (h − ⌊h⌋)(s[⌊h⌋ + 1] − s[⌊h⌋])`.
    public static func percentile(_ values: [Float], _ p: Double) throws(ReportMetricsError) -> Double {
        guard (0...100).contains(p) else { throw .percentileOutOfRange(p) }
        try checkFinite("percentile", values)
        return percentileOfSorted(values.sorted(), p)
    }

    /// Population excess kurtosis `m4 / m2² − 3` with central moments `mk = Σ(x − mean)^k / n`
    /// (SciPy's `kurtosis(x, fisher=True, bias=True)`). 0 for constant data, which has no tails.
    public static func excessKurtosis(_ values: [Float]) throws(ReportMetricsError) -> Double {
        try checkFinite("excessKurtosis", values)
        return kurtosisOfFinite(values)
    }

    /// Minimum, maximum, 99.9th percentile of `|x|` and excess kurtosis of finite values.
    /// Sorts one copy of `|x|` (O(n log n)); for tensors too large to hold, gather these from the
    /// calibration histograms instead.
    public static func outlierStats(_ values: [Float]) throws(ReportMetricsError) -> OutlierStats {
        try checkFinite("outlierStats", values)
        var low = values[0], high = values[0]
        for x in values {
            low = Swift.min(low, x)
            high = Swift.max(high, x)
        }
        let absSorted = values.map { abs($0) }.sorted()
        return OutlierStats(min: Double(low), max: Double(high), absP999: percentileOfSorted(absSorted, 99.9),
                            excessKurtosis: kurtosisOfFinite(values), count: values.count)
    }

    private static func checkFinite(_ metric: String, _ values: [Float]) throws(ReportMetricsError) {
        guard !values.isEmpty else { throw .empty(metric: metric) }
        if let bad = values.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(metric: metric, index: bad) }
    }

    private static func percentileOfSorted(_ sorted: [Float], _ p: Double) -> Double {
        let h = Double(sorted.count - 1) * p / 100
        let lower = Int(h.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let fraction = h - Double(lower)
        return Double(sorted[lower]) + fraction * (Double(sorted[upper]) - Double(sorted[lower]))
    }

    private static func kurtosisOfFinite(_ values: [Float]) -> Double {
        let n = Double(values.count)
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        var m2 = 0.0, m4 = 0.0
        for x in values {
            let d = Double(x) - mean
            let d2 = d * d
            m2 += d2
            m4 += d2 * d2
        }
        m2 /= n
        m4 /= n
        guard m2 > 0 else { return 0 }
        return m4 / (m2 * m2) - 3
    }
}
