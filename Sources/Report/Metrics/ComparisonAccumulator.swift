import Foundation

/// Running sums for comparing a test signal with a reference, so a layer's error can be gathered
/// sample by sample without keeping every activation. All sums are in `Double`.
///
/// With `r` the reference and `t` the test values:
///
///     signal = Σ r²    noise = Σ (r − t)²    test = Σ t²    dot = Σ r·t
public struct ComparisonAccumulator: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var signalEnergy = 0.0
    public private(set) var noiseEnergy = 0.0
    public private(set) var testEnergy = 0.0
    public private(set) var dot = 0.0

    public init() {}

    /// Adds paired values; throws `lengthMismatch` when the counts differ.
    public mutating func add(reference: [Float], test: [Float]) throws(ReportMetricsError) {
        guard reference.count == test.count else {
            throw .lengthMismatch(metric: "comparison", reference: reference.count, test: test.count)
        }
        var signal = 0.0, noise = 0.0, testSum = 0.0, cross = 0.0
        for i in reference.indices {
            let r = Double(reference[i]), t = Double(test[i])
            let d = r - t
            signal += r * r
            noise += d * d
            testSum += t * t
            cross += r * t
        }
        count += reference.count
        signalEnergy += signal
        noiseEnergy += noise
        testEnergy += testSum
        dot += cross
    }

    /// Combines the sums of another accumulator (e.g. one per worker).
    public mutating func merge(_ other: ComparisonAccumulator) {
        count += other.count
        signalEnergy += other.signalEnergy
        noiseEnergy += other.noiseEnergy
        testEnergy += other.testEnergy
        dot += other.dot
    }

    /// `10 log10(signal / noise)` in dB, clamped to `±ReportMetrics.sqnrCapDB`.
    ///
    /// No noise (identical values) gives `+sqnrCapDB` and a silent reference with noise gives
    /// `−sqnrCapDB`, so the value is always finite; docs/report.md says how to read the cap.
    public var sqnrDB: Double {
        let cap = ReportMetrics.sqnrCapDB
        if noiseEnergy == 0 { return cap }
        if signalEnergy == 0 { return -cap }
        return Swift.min(cap, Swift.max(-cap, 10 * log10(signalEnergy / noiseEnergy)))
    }

    /// `‖r − t‖₂ / ‖r‖₂`; 0 when both are zero, `+infinity` for a zero reference with a non-zero
    /// difference (written to JSON as `null`).
    public var relativeError: Double {
        if noiseEnergy == 0 { return 0 }
        if signalEnergy == 0 { return .infinity }
        return (noiseEnergy / signalEnergy).squareRoot()
    }

    /// `Σ r·t / (‖r‖ ‖t‖)`; 1 when both vectors are zero, 0 when exactly one is.
    public var cosine: Double {
        if signalEnergy == 0 && testEnergy == 0 { return 1 }
        if signalEnergy == 0 || testEnergy == 0 { return 0 }
        return Swift.min(1, Swift.max(-1, dot / (signalEnergy.squareRoot() * testEnergy.squareRoot())))
    }

    /// `noise / count`; throws `empty` when nothing was added.
    public func mse() throws(ReportMetricsError) -> Double {
        guard count > 0 else { throw .empty(metric: "mse") }
        return noiseEnergy / Double(count)
    }
}
