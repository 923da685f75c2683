import Foundation

/// Analytic clipping of Banner, Nahshan & Soudry, "Post training 4-bit quantization of
/// convolutional networks for rapid-deployment" (NeurIPS 2019), section 4.
///
/// Quantizing `[-α, α]` to `2^M` levels gives rounding noise `Δ²/12 = α² / (3·4^M)`; clipping
/// adds, for a Laplace(0, b), `2 b² e^(-α/b)`, and for a Gaussian N(0, σ²),
/// `(α² + σ²)(1 - erf(α / (σ√2))) - √(2/π) α σ e^(-α²/(2σ²))`. Setting the derivative of the sum
/// to zero gives the optimal `α/b` and `α/σ` for each M, solved here by bisection (and checked
/// against the paper's table in the tests: Laplace 2.83, 3.89, 5.03, 6.20, 7.41, 8.64, 9.89 and
/// Gaussian 1.71, 2.15, 2.55, 2.94, 3.29, 3.61, 3.92 for M = 2...8).
public enum ACIQ {
    /// Optimal `α / b` for a Laplace distribution at `bits`: the root of
    /// `e^(-x) = x / (3·4^M)` (derivative of `2e^(-x) + x²/(3·4^M)`).
    public static func laplaceRatio(bits: Int) -> Double {
        let noise = 3 * pow(4, Double(bits))
        return bisect { x in exp(-x) - x / noise }
    }

    /// Optimal `α / σ` for a Gaussian at `bits`: the root of
    /// `x·erfc(x/√2) - √(2/π)·e^(-x²/2) + x / (3·4^M) = 0` (half the derivative of the noise).
    public static func gaussianRatio(bits: Int) -> Double {
        let noise = 3 * pow(4, Double(bits))
        return bisect { x in -(x * erfc(x / 2.0.squareRoot()) - (2 / Double.pi).squareRoot() * exp(-x * x / 2) + x / noise) }
    }

    /// The root in (0, 64) of a function positive at 0 and negative at 64.
    private static func bisect(_ f: (Double) -> Double) -> Double {
        var low = 0.0, high = 64.0
        for _ in 0..<100 {
            let mid = (low + high) / 2
            if f(mid) > 0 { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }
}

extension TensorStatistics {
    /// ACIQ range. Signed tensor: fit Laplace with `b = E|x - μ|` (from the histogram) and Gaussian
    /// with σ; use the fit whose excess kurtosis (Laplace 3, Gaussian 0) is nearer the measured one;
    /// range `[μ - α, μ + α]`.
    ///
    /// Non-negative tensor (post-ReLU): its `2^M` levels all lie on `[0, α]`, the same step as
    /// `[-α, α]` at `M + 1` bits, so the tensor is treated as one half of its mirror image
    /// `±x` (mean 0): `b = E[x]`, `σ = √E[x²]`, kurtosis `E[x⁴]/E[x²]² - 3`, `α` from the `M + 1`
    /// bit ratio, range `[0, α]`.
    ///
    /// Either way the range is then cut to `[min, max]`, so ACIQ never widens min-max.
    func aciqRange(bits: Int) -> (low: Float, high: Float) {
        guard count > 0 else { return (0, 0) }
        let (center, b, sigma, kurtosis, effectiveBits): (Double, Double, Double, Double, Int)
        if isNonNegative {
            let e2 = moments.rawMoment(2)
            center = 0
            b = moments.rawMoment(1)
            sigma = e2.squareRoot()
            kurtosis = e2 > 0 ? moments.rawMoment(4) / (e2 * e2) - 3 : 0
            effectiveBits = bits + 1
        } else {
            center = mean
            b = meanAbsoluteDeviation
            sigma = variance.squareRoot()
            kurtosis = self.kurtosis
            effectiveBits = bits
        }
        let laplace = abs(kurtosis - 3) < abs(kurtosis - 0)
        let alpha = laplace ? ACIQ.laplaceRatio(bits: effectiveBits) * b : ACIQ.gaussianRatio(bits: effectiveBits) * sigma
        return (Float(center - alpha), Float(center + alpha))
    }

    /// `E|x - μ|` from the histogram segments (each at its midpoint; exact zeros at 0).
    var meanAbsoluteDeviation: Double {
        guard count > 0 else { return 0 }
        var total = 0.0
        for s in segments {
            total += s.mass * abs((s.low + s.high) / 2 - mean)
        }
        return total / Double(count)
    }
}
