import Foundation
@testable import Calibration

/// Deterministic samples for the tests: SplitMix64 and Box-Muller, so every run sees the same values.
struct SampleGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func nextUInt64() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(nextUInt64() >> 11) / Double(1 << 53) }

    mutating func gaussian(mean: Double = 0, sigma: Double = 1) -> Float {
        let u = Swift.max(uniform(), 1e-300), v = uniform()
        return Float(mean + sigma * (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
    }

    /// Laplace(0, b) by inverse CDF.
    mutating func laplace(b: Double) -> Float {
        let u = uniform() - 0.5
        return Float(-b * (u < 0 ? -1.0 : 1.0) * log(1 - 2 * Swift.abs(u)))
    }

    mutating func gaussians(_ n: Int, sigma: Double = 1) -> [Float] { (0..<n).map { _ in gaussian(sigma: sigma) } }
    mutating func laplaces(_ n: Int, b: Double) -> [Float] { (0..<n).map { _ in laplace(b: b) } }
}

/// Statistics of `values` added in one batch.
func statistics(of values: [Float], channels: Int = 1, bins: Int = 2048) -> TensorStatistics {
    let stats = TensorStatistics(channels: channels, bins: bins)
    values.withUnsafeBufferPointer { stats.add($0) }
    return stats
}

/// Mean squared error of actually quantizing every value to the grid of `low...high` at `bits`
/// (TFLite asymmetric: zero point rounded, values clamped), the ground truth of `quantizationMSE`.
func measuredQuantizationMSE(_ values: [Float], low: Float, high: Float, bits: Int) -> Double {
    let levels = Double(1 << bits)
    let l = Double(Swift.min(low, 0)), h = Double(Swift.max(high, 0))
    let step = (h - l) / (levels - 1)
    let zero = (-l / step).rounded()
    var total = 0.0
    for v in values {
        let q = Swift.min(Swift.max((Double(v) / step).rounded() + zero, 0), levels - 1)
        let e = Double(v) - (q - zero) * step
        total += e * e
    }
    return total / Double(values.count)
}
