/// How often two integer tensors differ, bucketed by `|a − b|` in units of the last bit:
/// `counts[0]` identical, `counts[1]` off by 1, `counts[2]` off by 2, `counts[3]` off by 3 or more.
///
/// Used for the integer simulator vs the quantized float emulation: rounding-profile disagreements
/// show up as ±1 LSB; anything in the `3+` bucket is a bug, not rounding.
public struct LSBHistogram: Codable, Sendable, Equatable {
    public static let bucketCount = 4

    /// Buckets `|d| = 0, 1, 2, ≥ 3`; always `bucketCount` entries.
    public private(set) var counts: [Int]
    /// Largest `|a − b|` seen.
    public private(set) var maxAbsDifference: Int64
    /// Values compared: `Σ counts`.
    public private(set) var compared: Int
    /// `counts[0] / compared`, the share of bit-identical values; 1 when nothing was compared.
    public private(set) var identicalShare: Double

    /// A histogram from bucket counts (padded or truncated to `bucketCount` entries, the last bucket
    /// absorbing any beyond it); the derived fields are computed.
    public init(counts: [Int] = [], maxAbsDifference: Int64 = 0) {
        var buckets = Array(counts.prefix(Self.bucketCount))
        buckets += Array(repeating: 0, count: Self.bucketCount - buckets.count)
        buckets[Self.bucketCount - 1] += counts.dropFirst(Self.bucketCount).reduce(0, +)
        self.counts = buckets
        self.maxAbsDifference = maxAbsDifference
        self.compared = 0
        self.identicalShare = 1
        updateDerived()
    }

    /// Adds paired values (differences in `Int64`, so no pair overflows).
    public mutating func add(_ a: [Int32], _ b: [Int32]) throws(ReportMetricsError) {
        guard a.count == b.count else { throw .lengthMismatch(metric: "lsbHistogram", reference: a.count, test: b.count) }
        for i in a.indices {
            let d = abs(Int64(a[i]) - Int64(b[i]))
            counts[Int(min(d, Int64(Self.bucketCount - 1)))] += 1
            maxAbsDifference = max(maxAbsDifference, d)
        }
        updateDerived()
    }

    /// Combines another histogram's counts (e.g. one per sample batch).
    public mutating func merge(_ other: LSBHistogram) {
        for (bucket, count) in other.counts.enumerated() {
            counts[min(bucket, Self.bucketCount - 1)] += count
        }
        maxAbsDifference = max(maxAbsDifference, other.maxAbsDifference)
        updateDerived()
    }

    private mutating func updateDerived() {
        compared = counts.reduce(0, +)
        identicalShare = compared == 0 ? 1 : Double(counts[0]) / Double(compared)
    }
}

extension ReportMetrics {
    /// `LSBHistogram` of `a` vs `b`; throws on different lengths or empty input.
    public static func lsbHistogram(_ a: [Int32], _ b: [Int32]) throws(ReportMetricsError) -> LSBHistogram {
        guard !a.isEmpty || !b.isEmpty else { throw .empty(metric: "lsbHistogram") }
        var histogram = LSBHistogram()
        try histogram.add(a, b)
        return histogram
    }
}
