import Foundation
import XCTest
@testable import Report

/// Metric functions against values worked out by hand (or with NumPy/SciPy definitions on paper).
final class ReportMetricsTests: XCTestCase {
    /// Hand values are exact to ~1e-15; the tolerance allows for Double summation.
    let tolerance = 1e-12

    func testSQNRHandValue() throws {
        // signal 1 + 4 + 9 = 14, noise 1 -> 10 log10(14).
        XCTAssertEqual(try ReportMetrics.sqnrDB(reference: [1, 2, 3], test: [1, 2, 4]), 10 * log10(14.0), accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.sqnrDB(reference: [1, 2, 3], test: [1, 2, 4]), 11.461280356782380, accuracy: 1e-12)
    }

    func testSQNRCapsForIdenticalAndSilentReference() throws {
        XCTAssertEqual(try ReportMetrics.sqnrDB(reference: [0.5, -2, 7], test: [0.5, -2, 7]), ReportMetrics.sqnrCapDB)
        XCTAssertEqual(try ReportMetrics.sqnrDB(reference: [0, 0], test: [0, 0]), ReportMetrics.sqnrCapDB)
        XCTAssertEqual(try ReportMetrics.sqnrDB(reference: [0, 0], test: [0, 1]), -ReportMetrics.sqnrCapDB)
        // One float32 ulp on 1.0 (2^-23) is 10 log10(2^46) = 138.5 dB: below the cap, so the cap means exact.
        XCTAssertEqual(try ReportMetrics.sqnrDB(reference: [1], test: [Float(1).nextUp]), 460 * log10(2.0), accuracy: 1e-9)
    }

    func testEmptyAndMismatchedInputsThrow() {
        XCTAssertThrowsError(try ReportMetrics.sqnrDB(reference: [], test: [])) { XCTAssertEqual($0 as? ReportMetricsError, .empty(metric: "sqnr")) }
        XCTAssertThrowsError(try ReportMetrics.cosine([1, 2], [1])) {
            XCTAssertEqual($0 as? ReportMetricsError, .lengthMismatch(metric: "cosine", reference: 2, test: 1))
        }
        XCTAssertThrowsError(try ReportMetrics.mse([], []))
        XCTAssertThrowsError(try ReportMetrics.top1Agreement([1, 2, 3], [1, 2, 3], classes: 2)) {
            XCTAssertEqual($0 as? ReportMetricsError, .notDivisible(metric: "top1Agreement", count: 3, classes: 2))
        }
        XCTAssertThrowsError(try ReportMetrics.top1Agreement([], [], classes: 10))
        XCTAssertThrowsError(try ReportMetrics.accuracy([1, 2], labels: [Int32](), classes: 2)) {
            XCTAssertEqual($0 as? ReportMetricsError, .labelCountMismatch(rows: 1, labels: 0))
        }
        XCTAssertThrowsError(try ReportMetrics.percentile([], 50))
        XCTAssertThrowsError(try ReportMetrics.percentile([1], 100.5)) { XCTAssertEqual($0 as? ReportMetricsError, .percentileOutOfRange(100.5)) }
        XCTAssertThrowsError(try ReportMetrics.excessKurtosis([1, .nan])) {
            XCTAssertEqual($0 as? ReportMetricsError, .nonFinite(metric: "excessKurtosis", index: 1))
        }
        XCTAssertThrowsError(try ReportMetrics.lsbHistogram([], []))
        XCTAssertThrowsError(try ReportMetrics.lsbHistogram([1], [1, 2]))
    }

    func testCosineMSEAndRelativeError() throws {
        XCTAssertEqual(try ReportMetrics.cosine([1, 0], [0, 1]), 0, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.cosine([1, 2], [2, 4]), 1, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.cosine([1, 0], [1, 1]), 1 / 2.0.squareRoot(), accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.cosine([1, 0], [-1, 0]), -1, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.cosine([0, 0], [0, 0]), 1)
        XCTAssertEqual(try ReportMetrics.cosine([0, 0], [1, 0]), 0)
        XCTAssertEqual(try ReportMetrics.mse([1, 2], [2, 4]), 2.5, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.relativeError(reference: [3, 4], test: [3, 9]), 1, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.relativeError(reference: [3, 4], test: [3.3, 4.4]), 0.1, accuracy: 1e-7)
        XCTAssertEqual(try ReportMetrics.relativeError(reference: [0, 0], test: [0, 0]), 0)
        XCTAssertEqual(try ReportMetrics.relativeError(reference: [0, 0], test: [0, 1]), .infinity)
    }

    func testTop1AgreementAndAccuracy() throws {
        // Row arg-maxes: a = 1, 0, 0 (tie -> lowest index); b = 1, 1, 0.
        let a: [Float] = [0.1, 0.9, 0.8, 0.2, 0.5, 0.5]
        let b: [Float] = [0.2, 0.8, 0.1, 0.9, 0.5, 0.4]
        XCTAssertEqual(try ReportMetrics.top1Agreement(a, b, classes: 2), 2.0 / 3.0, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.top1Agreement(a, a, classes: 2), 1)
        XCTAssertEqual(try ReportMetrics.accuracy(a, labels: [Int32(1), 0, 1], classes: 2), 2.0 / 3.0, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.accuracy(b, labels: [1, 1, 0], classes: 2), 1)
        // NaN never wins the arg-max.
        XCTAssertEqual(try ReportMetrics.accuracy([.nan, 0.1, 0.2], labels: [2], classes: 3), 1)
    }

    func testKLDivergence() throws {
        // P = softmax(0, 0) = (1/2, 1/2), Q = softmax(0, ln 3) = (1/4, 3/4):
        // KL = 1/2 ln 2 + 1/2 ln(2/3) = 1/2 ln(4/3).
        let expected = 0.5 * log(4.0 / 3.0)
        XCTAssertEqual(try ReportMetrics.klDivergence(reference: [0, 0], test: [0, Float(log(3.0))], classes: 2, outputKind: .logits),
                       expected, accuracy: 1e-7)
        // Softmax is shift-invariant, so large logits give the same value.
        XCTAssertEqual(try ReportMetrics.klDivergence(reference: [1000, 1000], test: [500, 500 + Float(log(3.0))], classes: 2, outputKind: .logits),
                       expected, accuracy: 1e-4)
        XCTAssertEqual(try ReportMetrics.klDivergence(reference: [0.5, 0.5], test: [0.25, 0.75], classes: 2, outputKind: .probabilities),
                       expected, accuracy: 1e-12)
        // Mean over rows: a second, identical row halves it.
        XCTAssertEqual(try ReportMetrics.klDivergence(reference: [0.5, 0.5, 0.3, 0.7], test: [0.25, 0.75, 0.3, 0.7], classes: 2,
                                                      outputKind: .probabilities), expected / 2, accuracy: 1e-12)
        XCTAssertEqual(try ReportMetrics.klDivergence(reference: [0.1, 0.9], test: [0.1, 0.9], classes: 2, outputKind: .probabilities), 0, accuracy: 1e-15)
        // A quantized probability of exactly 0 stays finite thanks to the floor.
        let floored = try ReportMetrics.klDivergence(reference: [0.5, 0.5], test: [0, 1], classes: 2, outputKind: .probabilities)
        XCTAssertTrue(floored.isFinite)
        XCTAssertEqual(floored, 0.5 * log(0.5 / ReportMetrics.klProbabilityFloor) + 0.5 * log(0.5), accuracy: 1e-6)
        XCTAssertThrowsError(try ReportMetrics.klDivergence(reference: [0.5, 0.5], test: [1], classes: 2, outputKind: .probabilities))
    }

    func testPercentileAndKurtosis() throws {
        let values: [Float] = [4, 1, 3, 2]
        XCTAssertEqual(try ReportMetrics.percentile(values, 0), 1)
        XCTAssertEqual(try ReportMetrics.percentile(values, 25), 1.75, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.percentile(values, 50), 2.5, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.percentile(values, 100), 4)
        XCTAssertEqual(try ReportMetrics.percentile([7], 99.9), 7)
        // m2 = 1.25, m4 = 2.5625: 2.5625 / 1.5625 - 3 = -1.36 (scipy.stats.kurtosis([1, 2, 3, 4])).
        XCTAssertEqual(try ReportMetrics.excessKurtosis(values), -1.36, accuracy: tolerance)
        XCTAssertEqual(try ReportMetrics.excessKurtosis([5, 5, 5]), 0)
        // One outlier among nine zeros: heavy-tailed. Central moments written out around mean 0.9.
        let spike: [Float] = [9, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let mean = 0.9
        let m2 = (pow(9 - mean, 2) + 9 * pow(mean, 2)) / 10
        let m4 = (pow(9 - mean, 4) + 9 * pow(mean, 4)) / 10
        XCTAssertEqual(try ReportMetrics.excessKurtosis(spike), m4 / (m2 * m2) - 3, accuracy: 1e-12)
        XCTAssertGreaterThan(try ReportMetrics.excessKurtosis(spike), 3)
    }

    func testOutlierStats() throws {
        let stats = try ReportMetrics.outlierStats([-8, 1, 2, 3])
        XCTAssertEqual(stats.min, -8)
        XCTAssertEqual(stats.max, 3)
        // |x| sorted 1, 2, 3, 8; h = 3 * 0.999 = 2.997 -> 3 + 0.997 * 5.
        XCTAssertEqual(stats.absP999, 7.985, accuracy: 1e-12)
        XCTAssertEqual(stats.count, 4)
        XCTAssertEqual(stats.excessKurtosis, try ReportMetrics.excessKurtosis([-8, 1, 2, 3]))
    }

    func testLSBHistogram() throws {
        let a: [Int32] = [0, 1, 2, 3, 100, Int32.min]
        let b: [Int32] = [0, 2, 0, 3, 97, Int32.max]
        let histogram = try ReportMetrics.lsbHistogram(a, b)
        XCTAssertEqual(histogram.counts, [2, 1, 1, 2])
        XCTAssertEqual(histogram.compared, 6)
        XCTAssertEqual(histogram.identicalShare, 2.0 / 6.0, accuracy: tolerance)
        XCTAssertEqual(histogram.maxAbsDifference, Int64(UInt32.max))

        var merged = histogram
        merged.merge(try ReportMetrics.lsbHistogram([5, 5], [5, 6]))
        XCTAssertEqual(merged.counts, [3, 2, 1, 2])
        XCTAssertEqual(merged.identicalShare, 3.0 / 8.0, accuracy: tolerance)
        XCTAssertEqual(LSBHistogram().identicalShare, 1)
        XCTAssertEqual(LSBHistogram(counts: [1, 0, 0, 1, 2]).counts, [1, 0, 0, 3])
    }

    func testAccumulatorMatchesOneShotAndMerges() throws {
        let reference: [Float] = (0..<100).map { Float(sin(Double($0))) }
        let test = reference.enumerated().map { $0.element + Float(($0.offset % 7) - 3) * 0.01 }
        var first = ComparisonAccumulator(), second = ComparisonAccumulator()
        try first.add(reference: Array(reference[..<40]), test: Array(test[..<40]))
        try second.add(reference: Array(reference[40...]), test: Array(test[40...]))
        first.merge(second)
        XCTAssertEqual(first.count, 100)
        XCTAssertEqual(first.sqnrDB, try ReportMetrics.sqnrDB(reference: reference, test: test), accuracy: 1e-9)
        XCTAssertEqual(try first.mse(), try ReportMetrics.mse(reference, test), accuracy: 1e-15)
        XCTAssertThrowsError(try ComparisonAccumulator().mse())
    }
}
