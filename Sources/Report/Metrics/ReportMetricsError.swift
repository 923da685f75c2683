/// Why a metric cannot be computed from its inputs. Degenerate but valid inputs (identical tensors,
/// constant data, zero vectors) give documented values instead; only malformed inputs throw.
public enum ReportMetricsError: Error, Equatable, CustomStringConvertible {
    /// The metric needs at least one value.
    case empty(metric: String)
    /// Two inputs that must pair element by element have different lengths.
    case lengthMismatch(metric: String, reference: Int, test: Int)
    /// A flat output buffer is not a whole number of rows of `classes` values.
    case notDivisible(metric: String, count: Int, classes: Int)
    /// `labels.count` differs from the number of output rows.
    case labelCountMismatch(rows: Int, labels: Int)
    /// A percentile outside 0 ... 100.
    case percentileOutOfRange(Double)
    /// NaN or infinity where the metric needs finite values.
    case nonFinite(metric: String, index: Int)

    public var description: String {
        switch self {
        case .empty(let metric):
            return "\(metric): no values to measure"
        case .lengthMismatch(let metric, let reference, let test):
            return "\(metric): reference has \(reference) values but test has \(test); they must pair one to one"
        case .notDivisible(let metric, let count, let classes):
            return "\(metric): \(count) values are not whole rows of \(classes) classes"
        case .labelCountMismatch(let rows, let labels):
            return "accuracy: \(rows) output rows but \(labels) labels"
        case .percentileOutOfRange(let p):
            return "percentile \(p) is outside 0 ... 100"
        case .nonFinite(let metric, let index):
            return "\(metric): value at index \(index) is NaN or infinite"
        }
    }
}
