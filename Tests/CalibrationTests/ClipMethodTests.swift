import XCTest
@testable import Calibration

final class ClipMethodTests: XCTestCase {
    /// Gaussian N(0, 1), 100k values, plus one value at 100 σ.
    static let outlierTensor: [Float] = {
        var generator = SampleGenerator(seed: 10)
        var values = generator.gaussians(100_000)
        values[500] = 100
        return values
    }()

    func testNamesAndParsing() {
        XCTAssertEqual(ClipMethod.allNames.compactMap { ClipMethod.parse($0, percentile: 99.9)?.name },
                       ["minmax", "percentile:99.9", "mse", "kl", "aciq", "auto"])
        XCTAssertEqual(ClipMethod.parse("KL", percentile: 99), .kl)
        XCTAssertNil(ClipMethod.parse("entropy", percentile: 99))
        XCTAssertEqual(ClipMethod.percentile(99.99).name, "percentile:99.99")
    }

    /// Every method on every shape keeps `low <= 0 <= high` inside the full range, `low == 0` for
    /// non-negative tensors, and reports its own name (auto: the winner's).
    func testRangeInvariants() {
        var generator = SampleGenerator(seed: 11)
        let tensors: [(String, [Float])] = [
            ("gaussian", generator.gaussians(20_000)),
            ("shifted", generator.gaussians(20_000).map { $0 + 5 }),
            ("negative", generator.gaussians(20_000).map { -Swift.abs($0) - 1 }),
            ("relu", generator.laplaces(20_000, b: 1).map { Swift.max($0, 0) }),
            ("outliers", Self.outlierTensor),
        ]
        for (name, values) in tensors {
            let stats = statistics(of: values)
            for bits in [2, 4, 8] {
                for method in ClipMethod.autoCandidates + [.auto] {
                    let r = stats.clipRange(method: method, bits: bits)
                    let context = "\(name) \(method.name) \(bits) bits: [\(r.low), \(r.high)]"
                    XCTAssertLessThanOrEqual(r.low, 0, context)
                    XCTAssertGreaterThanOrEqual(r.high, 0, context)
                    XCTAssertGreaterThanOrEqual(r.low, Swift.min(stats.min, 0), context)
                    XCTAssertLessThanOrEqual(r.high, Swift.max(stats.max, 0), context)
                    XCTAssertLessThan(r.low, r.high, context)
                    if stats.isNonNegative { XCTAssertEqual(r.low, 0, context) }
                    XCTAssertNotEqual(r.method, "auto", context)
                    XCTAssertEqual(r.estimatedMSE, stats.quantizationMSE(low: r.low, high: r.high, bits: bits), context)
                }
            }
        }
    }

    /// The outlier: min-max keeps it; KL, percentile and ACIQ clip it at 8 bits (KL does not
    /// degenerate to min-max). MSE weighs the outlier's clipping error (96² / 100k ≈ 0.09) against
    /// rounding: at 8 bits keeping it costs less (Δ²/12 ≈ 0.014), at 4 bits clipping wins.
    func testHeavyOutlierIsClippedByEveryMethodButMinMax() {
        let stats = statistics(of: Self.outlierTensor)
        XCTAssertEqual(stats.clipRange(method: .minmax, bits: 8).high, 100)
        for (method, bits) in [(ClipMethod.kl, 8), (.percentile(99.99), 8), (.aciq, 8), (.kl, 4), (.mse, 4), (.aciq, 4)] {
            let r = stats.clipRange(method: method, bits: bits)
            XCTAssertLessThan(r.high, 12, "\(method.name) at \(bits) bits kept the outlier: [\(r.low), \(r.high)]")
            XCTAssertGreaterThan(r.high, 1.5, "\(method.name) at \(bits) bits clipped the Gaussian body: [\(r.low), \(r.high)]")
            XCTAssertLessThan(r.low, -1.5, "\(method.name) at \(bits) bits clipped the Gaussian body: [\(r.low), \(r.high)]")
        }
        XCTAssertNotEqual(stats.clipRange(method: .kl, bits: 8), stats.clipRange(method: .minmax, bits: 8), "KL degenerated to min-max")
        XCTAssertLessThan(stats.clipRange(method: .mse, bits: 4).estimatedMSE, stats.clipRange(method: .minmax, bits: 4).estimatedMSE)
        XCTAssertEqual(stats.clipRange(method: .mse, bits: 8).high, 100, accuracy: 15, "at 8 bits the outlier is worth keeping")
    }

    /// KL on a post-ReLU shape (60 % exact zeros, the rest half-Gaussian): the zeros must not pull
    /// the threshold to the smallest candidate.
    func testKLIgnoresTheZeroSpike() {
        var generator = SampleGenerator(seed: 15)
        let values = (0..<100_000).map { i in i % 10 < 6 ? 0 : Swift.abs(generator.gaussian()) }
        let stats = statistics(of: values)
        for bits in [4, 8] {
            let high = stats.clipRange(method: .kl, bits: bits).high
            XCTAssertGreaterThan(high, 1.5, "\(bits) bits")
            XCTAssertLessThanOrEqual(high, stats.max)
        }
    }

    /// MSE is a search over the same error model auto compares with, so it never loses to min-max,
    /// and clips harder at fewer bits (rounding error grows, clipping gets cheaper).
    func testMSESearchBeatsMinMaxAndTightensWithFewerBits() {
        var generator = SampleGenerator(seed: 12)
        let stats = statistics(of: generator.laplaces(50_000, b: 1))
        var previousHigh = Float.infinity
        for bits in [8, 6, 4, 3, 2] {
            let mse = stats.clipRange(method: .mse, bits: bits)
            XCTAssertLessThanOrEqual(mse.estimatedMSE, stats.clipRange(method: .minmax, bits: bits).estimatedMSE)
            XCTAssertLessThan(mse.high, previousHigh, "\(bits) bits")
            previousHigh = mse.high
        }
        // Uniform data has no tail worth clipping at 8 bits.
        let uniform = statistics(of: (0..<50_000).map { _ in Float(generator.uniform()) })
        XCTAssertGreaterThan(uniform.clipRange(method: .mse, bits: 8).high, 0.99)
    }

    /// ACIQ on its own model distributions lands on the paper's α (centre 0, so range = ±α).
    func testACIQOnGaussianAndLaplace() {
        var generator = SampleGenerator(seed: 13)
        let gaussian = statistics(of: generator.gaussians(200_000, sigma: 2))
        let g = gaussian.clipRange(method: .aciq, bits: 4)
        XCTAssertEqual(g.high, 2.55 * 2, accuracy: 0.1, "Gaussian α = 2.55 σ at 4 bits")
        let laplace = statistics(of: generator.laplaces(200_000, b: 0.5))
        let l = laplace.clipRange(method: .aciq, bits: 4)
        XCTAssertEqual(l.high, 5.03 * 0.5, accuracy: 0.05, "Laplace α = 5.03 b at 4 bits")
        XCTAssertEqual(l.low, -5.03 * 0.5, accuracy: 0.05)
        // Non-negative: half-Laplace clipped with the M+1-bit ratio.
        let relu = statistics(of: generator.laplaces(200_000, b: 0.5).map { Swift.abs($0) })
        XCTAssertEqual(relu.clipRange(method: .aciq, bits: 4).high, 6.2 * 0.5, accuracy: 0.05)
    }

    /// The bisection solutions reproduce the table of Banner et al. 2019.
    func testACIQRatiosMatchThePaper() {
        let laplace = [2.83, 3.89, 5.03, 6.2, 7.41, 8.64, 9.89]
        let gaussian = [1.71, 2.15, 2.55, 2.94, 3.29, 3.61, 3.92]
        for bits in 2...8 {
            XCTAssertEqual(ACIQ.laplaceRatio(bits: bits), laplace[bits - 2], accuracy: 0.01, "Laplace \(bits) bits")
            XCTAssertEqual(ACIQ.gaussianRatio(bits: bits), gaussian[bits - 2], accuracy: 0.01, "Gaussian \(bits) bits")
        }
    }

    func testAutoPicksTheLeastEstimatedError() {
        var generator = SampleGenerator(seed: 14)
        let tensors = [Self.outlierTensor, generator.gaussians(20_000), generator.laplaces(20_000, b: 1).map { Swift.max($0, 0) }]
        for values in tensors {
            let stats = statistics(of: values)
            for bits in [3, 8] {
                let candidates = ClipMethod.autoCandidates.map { stats.clipRange(method: $0, bits: bits) }
                let auto = stats.clipRange(method: .auto, bits: bits)
                let least = candidates.map(\.estimatedMSE).min()!
                XCTAssertEqual(auto.estimatedMSE, least)
                XCTAssertEqual(auto, candidates.first { $0.estimatedMSE == least }, "ties go to the first candidate")
            }
        }
    }

    /// The histogram error model against quantizing every sample for real.
    func testEstimatedMSEMatchesMeasuredQuantizationError() {
        let values = Self.outlierTensor
        let stats = statistics(of: values)
        for (low, high, bits) in [(Float(-3), Float(3), 4), (-2, 2, 2), (-5, 5, 8), (-4.5, 100, 8), (-1, 0.5, 3)] {
            let estimated = stats.quantizationMSE(low: low, high: high, bits: bits)
            let measured = measuredQuantizationMSE(values, low: low, high: high, bits: bits)
            XCTAssertEqual(estimated, measured, accuracy: 0.02 * measured, "[\(low), \(high)] at \(bits) bits")
        }
    }

    /// F(u) = ∫ (t - round t)² dt against a midpoint sum.
    func testRoundingIntegral() {
        for (u0, u1) in [(0.0, 1.0), (0.2, 0.4), (-3.3, 7.9), (10.45, 10.55)] {
            let n = 100_000
            var sum = 0.0
            for k in 0..<n {
                let t = u0 + (u1 - u0) * (Double(k) + 0.5) / Double(n)
                sum += pow(t - t.rounded(), 2)
            }
            let expected = sum * (u1 - u0) / Double(n)
            let got = QuantizationGrid.roundingIntegral(u1) - QuantizationGrid.roundingIntegral(u0)
            XCTAssertEqual(got, expected, accuracy: 1e-6)
        }
    }
}
