import FixedPoint

/// `layerNorm` (docs/qbin-format.md 5.1, arithmetic in docs/numerics.md "Layer normalization"), per
/// row `q[0..<C]` of the last axis:
///
///     S = sum q,  Q = sum q^2,  V = C Q - S^2                         (Int64, exact: V = C^2 var(q))
///     (R, k) = fixedPointInverseSquareRoot(V + E)                     (E: epsilon in units of (s_x / C)^2)
///     n[c] = rdbpot((C q[c] - S) * R, 30 + k - F)                     (normalized value, Q F; 0 when V + E = 0)
///     acc = saturate_int32(n[c] * a[c] + b[c]),   out = clamp(zout + requant(acc, m[c], s[c]))
///
/// The input zero point cancels out of `C q - S` and `V`; `a` (gamma, int8) and `b` (beta, int32) are
/// the op's constant inputs 1 and 2. `LayerNormLimits` keeps every intermediate inside Int64.
final class ReferenceLayerNorm: IntegerLayer {
    let channels: Int
    let fractionBits: Int
    let epsilon: Int64
    let gamma: [Int32], beta: [Int32]
    let requant: ChannelRequantizer

    init(channels: Int, fractionBits: Int, epsilon: Int64, gamma: [Int32], beta: [Int32], requant: ChannelRequantizer) {
        self.channels = channels; self.fractionBits = fractionBits; self.epsilon = epsilon
        self.gamma = gamma; self.beta = beta; self.requant = requant
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0], c = channels
        let rows = output.count / c
        parallelChunks(rows, threads: threads) { range in
            for row in range {
                let base = row * c
                var sum: Int64 = 0, squares: Int64 = 0
                for k in 0..<c {
                    let q = Int64(input[base + k])
                    sum += q
                    squares += q * q
                }
                let total = Int64(c) * squares - sum * sum + self.epsilon
                // A constant row without epsilon: every centered value is 0, and so is n.
                let (r, exponent) = total > 0 ? fixedPointInverseSquareRoot(total) : (0, 1)
                let shift = 30 + exponent - self.fractionBits
                for k in 0..<c {
                    let n = roundingDivideByPowerOfTwo((Int64(c) * Int64(input[base + k]) - sum) * r, shift)
                    let acc = n * Int64(self.gamma[k]) + Int64(self.beta[k])
                    let saturated = Int32(clamping: acc)
                    output[base + k] = self.requant.apply(saturated, channel: k)
                }
            }
        }
    }
}
