import Foundation

/// Pure metric functions of the fidelity report. Inputs are flat float buffers (row-major
/// `samples × classes` where a function takes `classes`); arithmetic is in `Double`.
///
/// Empty or mismatched inputs throw `ReportMetricsError`; degenerate but valid inputs return the
/// documented value of each function, always finite except `relativeError` of a zero reference.
public enum ReportMetrics {
    /// The SQNR reported when there is no measurable noise (identical tensors). 200 dB is a noise
    /// power 10⁻²⁰ of the signal, far below float32 resolution (~150 dB), so any value at the cap
    /// means "exact"; the HTML page prints it as "exact".
    public static let sqnrCapDB = 200.0

    /// Smallest class probability used by `klDivergence`. Quantized probability outputs can be
    /// exactly 0 (an int8 softmax rounds small classes away); without a floor KL would be infinite.
    /// 1e-12 caps one class's contribution at `p · 27.6` nats.
    public static let klProbabilityFloor = 1e-12

    /// `10 log10(Σr² / Σ(r − t)²)` in dB, clamped to `±sqnrCapDB` (see `ComparisonAccumulator.sqnrDB`).
    public static func sqnrDB(reference: [Float], test: [Float]) throws(ReportMetricsError) -> Double {
        try accumulate("sqnr", reference, test).sqnrDB
    }

    /// `‖r − t‖₂ / ‖r‖₂` (see `ComparisonAccumulator.relativeError`).
    public static func relativeError(reference: [Float], test: [Float]) throws(ReportMetricsError) -> Double {
        try accumulate("relativeError", reference, test).relativeError
    }

    /// Cosine similarity of two vectors; 1 when both are zero, 0 when exactly one is.
    public static func cosine(_ a: [Float], _ b: [Float]) throws(ReportMetricsError) -> Double {
        try accumulate("cosine", a, b).cosine
    }

    /// `Σ(a − b)² / n`.
    public static func mse(_ a: [Float], _ b: [Float]) throws(ReportMetricsError) -> Double {
        try accumulate("mse", a, b).mse()
    }

    /// Share of rows whose arg-max class is the same in `a` and `b` (0 ... 1). Ties go to the lowest
    /// class index; NaN never wins.
    public static func top1Agreement(_ a: [Float], _ b: [Float], classes: Int) throws(ReportMetricsError) -> Double {
        let rowsA = try rows("top1Agreement", a, classes)
        let rowsB = try rows("top1Agreement", b, classes)
        guard rowsA == rowsB else { throw .lengthMismatch(metric: "top1Agreement", reference: a.count, test: b.count) }
        var agree = 0
        for row in 0..<rowsA where argmax(a, row: row, classes: classes) == argmax(b, row: row, classes: classes) {
            agree += 1
        }
        return Double(agree) / Double(rowsA)
    }

    /// Share of rows whose arg-max class equals the label (0 ... 1).
    public static func accuracy<Label: BinaryInteger>(_ outputs: [Float], labels: [Label],
                                                      classes: Int) throws(ReportMetricsError) -> Double {
        let rowCount = try rows("accuracy", outputs, classes)
        guard labels.count == rowCount else { throw .labelCountMismatch(rows: rowCount, labels: labels.count) }
        var correct = 0
        for row in 0..<rowCount where argmax(outputs, row: row, classes: classes) == Int(labels[row]) {
            correct += 1
        }
        return Double(correct) / Double(rowCount)
    }

    /// Mean over rows of `KL(P ‖ Q) = Σ p log(p / q)` in nats, with `P` from `reference` and `Q` from `test`.
    ///
    /// `outputKind == .logits` applies a (max-shifted) softmax to each row first. `.probabilities`
    /// uses the rows as given. Either way both are then floored at `klProbabilityFloor` and
    /// renormalised to sum to 1, so quantized zeros and rounding in the sums stay finite.
    public static func klDivergence(reference: [Float], test: [Float], classes: Int,
                                    outputKind: OutputKind) throws(ReportMetricsError) -> Double {
        let rowCount = try rows("klDivergence", reference, classes)
        guard reference.count == test.count else {
            throw .lengthMismatch(metric: "klDivergence", reference: reference.count, test: test.count)
        }
        var total = 0.0
        for row in 0..<rowCount {
            let p = distribution(reference, row: row, classes: classes, outputKind: outputKind)
            let q = distribution(test, row: row, classes: classes, outputKind: outputKind)
            var kl = 0.0
            for c in 0..<classes {
                kl += p[c] * log(p[c] / q[c])
            }
            total += Swift.max(0, kl) // ≥ 0 in exact arithmetic; rounding can give −1e-17
        }
        return total / Double(rowCount)
    }

    // MARK: helpers

    private static func accumulate(_ metric: String, _ reference: [Float],
                                   _ test: [Float]) throws(ReportMetricsError) -> ComparisonAccumulator {
        guard reference.count == test.count else {
            throw .lengthMismatch(metric: metric, reference: reference.count, test: test.count)
        }
        guard !reference.isEmpty else { throw .empty(metric: metric) }
        var acc = ComparisonAccumulator()
        try acc.add(reference: reference, test: test)
        return acc
    }

    /// Rows of `classes` values in `values`; throws unless that is a positive whole number.
    private static func rows(_ metric: String, _ values: [Float], _ classes: Int) throws(ReportMetricsError) -> Int {
        guard classes > 0, !values.isEmpty else { throw .empty(metric: metric) }
        guard values.count % classes == 0 else { throw .notDivisible(metric: metric, count: values.count, classes: classes) }
        return values.count / classes
    }

    /// Index of the largest value of one row; the first on ties, NaN ignored, 0 when all are NaN.
    public static func argmax(_ values: [Float], row: Int, classes: Int) -> Int {
        let start = row * classes
        var best = 0
        var bestValue = -Float.infinity
        for c in 0..<classes where values[start + c] > bestValue {
            best = c
            bestValue = values[start + c]
        }
        return best
    }

    /// One row as a probability distribution, floored and renormalised (see `klDivergence`).
    private static func distribution(_ values: [Float], row: Int, classes: Int, outputKind: OutputKind) -> [Double] {
        let slice = (0..<classes).map { Double(values[row * classes + $0]) }
        var p: [Double]
        switch outputKind {
        case .logits:
            let top = slice.max() ?? 0
            p = slice.map { exp($0 - top) }
        case .probabilities:
            p = slice
        }
        p = p.map { Swift.max($0.isNaN ? 0 : $0, klProbabilityFloor) }
        let sum = p.reduce(0, +)
        return p.map { $0 / sum }
    }
}
