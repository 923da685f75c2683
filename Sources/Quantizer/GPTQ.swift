import Foundation

/// GPTQ rounding (Frantar et al., "GPTQ: Accurate Post-Training Quantization for Generative
/// Pre-trained Transformers", ICLR 2023) of weight rows whose scales are already fixed.
///
/// Rounding a row `w` entry by entry, the squared output error `(w - ŵ)ᵀ H (w - ŵ)` (with `H` the
/// second moments of the row's input patches, `InputCovariance`) is kept least by moving each rounding
/// error onto the entries not yet rounded: with `U` the upper Cholesky factor of `H⁻¹`,
///
///     q_i = clamp(round(w_i / s)),  e = (w_i - s q_i) / U_ii,  w_j -= e U_ij  for j > i.
///
/// Entries go in decreasing order of `H_ii` (the busiest inputs first, "act order"); `H` is damped by
/// 1 % of its mean diagonal (times 10 per failed factorisation, up to 3 times). An input that is never
/// non-zero on the calibration data gets `H_ii = 1`: its rounding stays local.
struct GPTQ {
    static let damping = 0.01

    /// The entry order and `U` (row-major `size x size`, in that order).
    let order: [Int]
    let u: [Double]
    let size: Int

    /// nil when `h` is all zeros or cannot be factorised even with extra damping. `inputNoise` is the
    /// variance the input's own quantization adds to each entry (`s_x² / 12`): the quantized model's
    /// inputs are `x + n`, whose second moments are `H + σ² I` for independent rounding noise.
    init?(hessian h: [Double], size n: Int, inputNoise: Double = 0) {
        let diagonal = (0..<n).map { h[$0 * n + $0] }
        let mean = diagonal.reduce(0, +) / Double(Swift.max(n, 1))
        guard n > 0, mean > 0, mean.isFinite else { return nil }
        let order = (0..<n).sorted { diagonal[$0] > diagonal[$1] || (diagonal[$0] == diagonal[$1] && $0 < $1) }
        var damp = Self.damping * mean
        for _ in 0..<4 {
            var p = [Double](repeating: 0, count: n * n)
            for a in 0..<n {
                for b in 0..<n { p[a * n + b] = h[order[a] * n + order[b]] }
                p[a * n + a] = (diagonal[order[a]] == 0 ? 1 : p[a * n + a] + inputNoise) + damp
            }
            if let l = Self.cholesky(p, n), let inverse = Self.inverse(lower: l, n), let l2 = Self.cholesky(inverse, n) {
                var u = [Double](repeating: 0, count: n * n)
                for i in 0..<n { for j in i..<n { u[i * n + j] = l2[j * n + i] } }
                self.order = order; self.u = u; self.size = n
                return
            }
            damp *= 10
        }
        return nil
    }

    /// The codes of row `w` (natural order) at `scale`, codes clamped to `-qmax ... qmax`.
    func round(_ w: UnsafeBufferPointer<Float>, scale: Float, qmax: Float) -> [Int32] {
        let n = size
        var x = order.map { Double(w[$0]) }
        var codes = [Int32](repeating: 0, count: n)
        let s = Double(scale), limit = Double(qmax)
        u.withUnsafeBufferPointer { u in
            for i in 0..<n {
                let r = (x[i] / s).rounded(.toNearestOrAwayFromZero)
                let q = r.isNaN ? 0 : Swift.min(Swift.max(r, -limit), limit) // NaN from degenerate data: 0, not a trap
                codes[order[i]] = Int32(q)
                let e = (x[i] - q * s) / u[i * n + i]
                if e == 0 { continue }
                let row = i * n
                for j in (i + 1)..<n { x[j] -= e * u[row + j] }
            }
        }
        return codes
    }

    /// Lower `L` with `L Lᵀ = a`, or nil when `a` is not positive definite.
    static func cholesky(_ a: [Double], _ n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var d = a[j * n + j]
            for k in 0..<j { d -= l[j * n + k] * l[j * n + k] }
            guard d > 0, d.isFinite else { return nil }
            let root = d.squareRoot()
            l[j * n + j] = root
            for i in (j + 1)..<n {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = s / root
            }
        }
        return l
    }

    /// `(L Lᵀ)⁻¹ = L⁻ᵀ L⁻¹` from the lower factor.
    static func inverse(lower l: [Double], _ n: Int) -> [Double]? {
        // M = L⁻¹ (lower), by forward substitution column by column.
        var m = [Double](repeating: 0, count: n * n)
        for c in 0..<n {
            for i in c..<n {
                var s = i == c ? 1.0 : 0.0
                for k in c..<i { s -= l[i * n + k] * m[k * n + c] }
                m[i * n + c] = s / l[i * n + i]
            }
        }
        var inverse = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var s = 0.0
                for k in j..<n { s += m[k * n + i] * m[k * n + j] }
                inverse[i * n + j] = s
                inverse[j * n + i] = s
            }
        }
        return inverse.allSatisfy(\.isFinite) ? inverse : nil
    }
}
