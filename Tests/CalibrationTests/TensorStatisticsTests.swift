import XCTest
@testable import Calibration

final class TensorStatisticsTests: XCTestCase {
    /// Batch sums run in float over blocks of 128 values (BatchSummary), so a different split
    /// changes the mean and variance by ~1e-8 relative; merged kurtosis moves by ~1e-5.
    static let momentTolerance = 1e-6
    static let kurtosisTolerance = 1e-4

    /// Adding in one batch or in ten uneven ones (the largest value in the last, so the histogram
    /// doubles its range on the way) gives the same statistics: the histogram exactly, moments to
    /// rounding.
    func testOneBatchAndTenBatchesAgree() {
        var generator = SampleGenerator(seed: 1)
        let channels = 4
        var values = generator.gaussians(40_000, sigma: 0.3).enumerated().map { $0.element + Float($0.offset % channels) }
        values[values.count - 3] = 40  // forces a range doubling in the last batch
        let whole = statistics(of: values, channels: channels)
        let parts = TensorStatistics(channels: channels)
        let cuts = [0, 4, 400, 4_000, 4_004, 10_000, 17_000, 20_000, 31_000, 39_000, 40_000]
        values.withUnsafeBufferPointer { all in
            for (start, end) in zip(cuts, cuts.dropFirst()) { parts.add(UnsafeBufferPointer(rebasing: all[start..<end])) }
        }
        XCTAssertEqual(parts.count, whole.count)
        XCTAssertEqual(parts.min, whole.min)
        XCTAssertEqual(parts.max, whole.max)
        XCTAssertEqual(parts.mean, whole.mean, accuracy: Self.momentTolerance * abs(whole.mean))
        XCTAssertEqual(parts.variance, whole.variance, accuracy: Self.momentTolerance * whole.variance)
        XCTAssertEqual(parts.kurtosis, whole.kurtosis, accuracy: Self.kurtosisTolerance)
        for (a, b) in zip(parts.channelMeans, whole.channelMeans) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        XCTAssertEqual(parts.segments, whole.segments, "histograms differ")
        for p in [0.0, 1, 50, 99, 99.99, 100] { XCTAssertEqual(parts.percentile(p), whole.percentile(p), "percentile \(p)") }
        for method in ClipMethod.autoCandidates + [.auto] {
            let a = parts.clipRange(method: method, bits: 8), b = whole.clipRange(method: method, bits: 8)
            XCTAssertEqual(a.method, b.method)
            XCTAssertEqual(a.low, b.low, accuracy: 1e-5, method.name)
            XCTAssertEqual(a.high, b.high, accuracy: 1e-5, method.name)
        }
    }

    func testHistogramStorageDoesNotGrowWithSamples() {
        var generator = SampleGenerator(seed: 2)
        let small = statistics(of: generator.gaussians(1_000))
        let large = TensorStatistics(channels: 1)
        let batch = generator.gaussians(100_000, sigma: 5)
        for _ in 0..<10 { batch.withUnsafeBufferPointer { large.add($0) } }
        XCTAssertEqual(large.count, 1_000_000)
        XCTAssertEqual(small.histogramByteCount, large.histogramByteCount)
        XCTAssertEqual(large.histogramByteCount, 2 * 4096 * MemoryLayout<Int>.stride, "2 x 2048 x 2 bins of Int")
    }

    /// Moments against a direct double-precision two-pass computation, with |mean| >> σ where raw
    /// power sums would cancel.
    func testMomentsMatchDirectComputation() {
        var generator = SampleGenerator(seed: 3)
        let values = (0..<50_000).map { _ in generator.laplace(b: 0.5) + 1000 }
        let stats = statistics(of: values)
        let n = Double(values.count)
        let mean = values.reduce(0.0) { $0 + Double($1) } / n
        let m2 = values.reduce(0.0) { $0 + pow(Double($1) - mean, 2) } / n
        let m4 = values.reduce(0.0) { $0 + pow(Double($1) - mean, 4) } / n
        XCTAssertEqual(stats.mean, mean, accuracy: 1e-9 * mean)
        XCTAssertEqual(stats.variance, m2, accuracy: 1e-6 * m2)
        XCTAssertEqual(stats.kurtosis, m4 / (m2 * m2) - 3, accuracy: 1e-4)
        XCTAssertEqual(stats.kurtosis, 3, accuracy: 0.3, "Laplace excess kurtosis")
        XCTAssertEqual(stats.min, values.min()!)
        XCTAssertEqual(stats.max, values.max()!)
    }

    func testPercentilesOfKnownDistributions() {
        var generator = SampleGenerator(seed: 4)
        let uniform = statistics(of: (0..<200_000).map { _ in Float(generator.uniform()) })
        for p in [1.0, 25, 50, 90, 99] {
            XCTAssertEqual(Double(uniform.percentile(p)), p / 100, accuracy: 0.005, "uniform percentile \(p)")
        }
        let gaussian = statistics(of: generator.gaussians(200_000, sigma: 2))
        // Φ(2) = 0.97725, Φ(-1) = 0.158655
        XCTAssertEqual(gaussian.percentile(97.725), 4, accuracy: 0.05)
        XCTAssertEqual(gaussian.percentile(15.8655), -2, accuracy: 0.05)
        XCTAssertEqual(gaussian.percentile(0), gaussian.min)
        XCTAssertEqual(gaussian.percentile(100), gaussian.max)
    }

    /// Post-ReLU shape: most values exactly 0. The zeros are a point mass, not spread over bin 0.
    func testExactZerosArePointMass() {
        var generator = SampleGenerator(seed: 5)
        let values = (0..<10_000).map { i in i % 10 < 6 ? 0 : Swift.abs(generator.gaussian()) }
        let stats = statistics(of: values, channels: 10)
        XCTAssertTrue(stats.isNonNegative)
        XCTAssertEqual(stats.percentile(50), 0)
        XCTAssertGreaterThan(stats.percentile(70), 0)
        XCTAssertEqual(stats.channelMeans[0], 0)
        XCTAssertGreaterThan(stats.channelMeans[9], 0.5)
        let range = stats.clipRange(method: .minmax, bits: 8)
        XCTAssertEqual(range.low, 0)
        XCTAssertEqual(range.high, stats.max)
    }

    func testNonFiniteValuesAreCountedAndLeftOut() {
        let stats = statistics(of: [1, .nan, -2, .infinity, 3, 0], channels: 2)
        XCTAssertEqual(stats.nonFiniteCount, 2)
        XCTAssertEqual(stats.count, 4)
        XCTAssertEqual(stats.min, -2)
        XCTAssertEqual(stats.max, 3)
        XCTAssertEqual(stats.mean, 0.5, accuracy: 1e-12)
        let expected: [Double] = [2.0 / 3, 0]  // rows (1, nan), (-2, inf), (3, 0); non-finite add 0
        XCTAssertEqual(stats.channelMeans, expected)
    }

    func testAllZeroTensor() {
        let stats = statistics(of: [Float](repeating: 0, count: 64), channels: 8)
        XCTAssertEqual(stats.absMax, 0)
        XCTAssertEqual(stats.variance, 0)
        for method in ClipMethod.autoCandidates + [.auto] {
            let range = stats.clipRange(method: method, bits: 8)
            XCTAssertEqual(range.low, 0, method.name)
            XCTAssertEqual(range.high, 0, method.name)
            XCTAssertEqual(range.estimatedMSE, 0, method.name)
        }
    }
}

extension TensorStatisticsTests {
    /// The report's histogram shares: values spread evenly give even shares, a point mass lands in its
    /// bin, values outside the range are left out.
    func testSharesOverBins() {
        let s = TensorStatistics(channels: 1)
        var values = (0..<1000).map { Float($0) / 1000 * 4 } // uniform on [0, 4)
        values += [Float](repeating: 10, count: 1000)             // a point mass at 10
        values.withUnsafeBufferPointer { s.add($0) }
        let shares = s.shares(low: 0, high: 4, bins: 4)
        for share in shares { XCTAssertEqual(share, 0.125, accuracy: 0.01) }
        let all = s.shares(low: 0, high: 10, bins: 5)
        XCTAssertEqual(all.reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertEqual(all[4], 0.5, accuracy: 0.01)
    }
}
