/// The uniform grid that quantizing to `levels = 2^bits` values over `[low, high]` uses, with zero
/// exactly on it (TFLite asymmetric quantization):
///
///     Δ = (high - low) / (levels - 1),   z = clamp(round(-low / Δ), 0, levels - 1),
///     grid = { (q - z) Δ : q = 0 ... levels - 1 },  Q(x) = clamp(round(x / Δ) + z, 0, levels-1) - z) Δ
///
/// so the grid's ends are `lo = -z Δ` and `hi = (levels - 1 - z) Δ` (the requested ends nudged by
/// at most Δ/2 so that zero is a grid point).
struct QuantizationGrid {
    let step: Double
    let lo: Double
    let hi: Double

    init(low: Float, high: Float, bits: Int) {
        let levels = Double(1 << Swift.min(Swift.max(bits, 1), 30))
        let l = Double(Swift.min(low, 0)), h = Double(Swift.max(high, 0))
        step = (h - l) / (levels - 1)
        let zero = step > 0 ? Swift.min(Swift.max((-l / step).rounded(), 0), levels - 1) : 0
        lo = -zero * step
        hi = lo + (levels - 1) * step
    }

    /// Squared error of quantizing the single value `x`.
    func squaredError(_ x: Double) -> Double {
        if x <= lo { return (x - lo) * (x - lo) }
        if x >= hi { return (x - hi) * (x - hi) }
        let u = (x - lo) / step
        let r = u - u.rounded()
        return r * r * step * step
    }

    /// Mean squared error of quantizing a value uniformly distributed over `[a, b]`: the clipped
    /// parts integrate `(x - lo)^2` and `(x - hi)^2`; the inside integrates the periodic rounding
    /// error exactly through `roundingIntegral`, so no Δ²/12 approximation is made even for bins
    /// wider than Δ.
    func meanSquaredError(from a: Double, to b: Double) -> Double {
        guard b > a else { return squaredError(a) }
        var integral = 0.0
        if a < lo {
            let top = Swift.min(b, lo)
            integral += ((lo - a) * (lo - a) * (lo - a) - (lo - top) * (lo - top) * (lo - top)) / 3
        }
        if b > hi {
            let bottom = Swift.max(a, hi)
            integral += ((b - hi) * (b - hi) * (b - hi) - (bottom - hi) * (bottom - hi) * (bottom - hi)) / 3
        }
        let insideLow = Swift.max(a, lo), insideHigh = Swift.min(b, hi)
        if insideHigh > insideLow, step > 0 {
            let u0 = (insideLow - lo) / step, u1 = (insideHigh - lo) / step
            integral += step * step * step * (Self.roundingIntegral(u1) - Self.roundingIntegral(u0))
        }
        return integral / (b - a)
    }

    /// `F(u) = ∫_{-1/2}^{u} (t - round(t))^2 dt`: with `k = round(u)`, `r = u - k`,
    /// `F(u) = k / 12 + (r^3 + 1/8) / 3` (each whole period contributes 1/12).
    static func roundingIntegral(_ u: Double) -> Double {
        let k = (u + 0.5).rounded(.down)
        let r = u - k
        return k / 12 + (r * r * r + 0.125) / 3
    }
}

extension TensorStatistics {
    /// The estimated mean squared error per value of quantizing with range `low...high` at `bits`:
    /// Σ over histogram segments of mass × the exact mean squared error of a uniform spread over the
    /// segment (`QuantizationGrid.meanSquaredError`), exact zeros contributing 0, divided by `count`.
    public func quantizationMSE(low: Float, high: Float, bits: Int) -> Double {
        guard count > 0 else { return 0 }
        let grid = QuantizationGrid(low: low, high: high, bits: bits)
        var total = 0.0
        for s in segments { total += s.mass * grid.meanSquaredError(from: s.low, to: s.high) }
        return total / Double(count)
    }
}
