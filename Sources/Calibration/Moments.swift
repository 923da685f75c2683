/// Count, mean and central moment sums `M_k = Σ (x - mean)^k` (k = 2, 3, 4) of a stream of values.
///
/// Batches are combined with the pairwise update of Pébay (2008, "Formulas for robust, one-pass
/// parallel computation of covariances and arbitrary-order statistical moments", eq. 3.1), so the
/// result does not depend on how the stream was split (up to rounding) and never forms the raw power
/// sums whose differences cancel catastrophically when |mean| >> std.
struct Moments: Sendable, Equatable {
    var count: Double = 0
    var mean: Double = 0
    var m2: Double = 0
    var m3: Double = 0
    var m4: Double = 0

    /// Population variance `M2 / n`.
    var variance: Double { count > 0 ? m2 / count : 0 }

    /// Excess kurtosis `n M4 / M2^2 - 3` (0 for a Gaussian, 3 for a Laplace); 0 when the variance is 0.
    var excessKurtosis: Double { m2 > 0 ? count * m4 / (m2 * m2) - 3 : 0 }

    /// The raw moment `E[x^k]` about zero, k = 1...4, from the central ones.
    func rawMoment(_ k: Int) -> Double {
        guard count > 0 else { return 0 }
        let c2 = m2 / count, c3 = m3 / count, c4 = m4 / count, mu = mean
        switch k {
        case 1: return mu
        case 2: return c2 + mu * mu
        case 3: return c3 + 3 * mu * c2 + mu * mu * mu
        default: return c4 + 4 * mu * c3 + 6 * mu * mu * c2 + mu * mu * mu * mu
        }
    }

    /// Adds the moments of another, disjoint part of the stream.
    mutating func merge(_ other: Moments) {
        guard other.count > 0 else { return }
        guard count > 0 else { self = other; return }
        let na = count, nb = other.count, n = na + nb
        let delta = other.mean - mean
        let d2 = delta * delta, d3 = d2 * delta, d4 = d2 * d2
        let newM4 = m4 + other.m4 + d4 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n)
            + 6 * d2 * (na * na * other.m2 + nb * nb * m2) / (n * n)
            + 4 * delta * (na * other.m3 - nb * m3) / n
        let newM3 = m3 + other.m3 + d3 * na * nb * (na - nb) / (n * n) + 3 * delta * (na * other.m2 - nb * m2) / n
        m2 += other.m2 + d2 * na * nb / n
        m3 = newM3
        m4 = newM4
        mean += delta * nb / n
        count = n
    }
}
