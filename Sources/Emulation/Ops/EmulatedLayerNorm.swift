/// `layerNorm`'s emulated twin: the integer op of docs/qbin-format.md 5.1, except that its two
/// fixed-point approximations are replaced by real arithmetic (Double), as for every emulated op:
///
///     n[c] = round((C q[c] - S) 2^F / sqrt(V + E))        instead of rdbpot((C q - S) R, 30 + k - F)
///     out  = clamp(zout + round(acc * 2^-F * s_a[c] / s_out))   instead of requant(acc, m[c], s[c])
///
/// (round: nearest, ties away from zero; `S`, `V`, `E` and `acc = saturate_int32(n a[c] + b[c])` as
/// in the integer op). The inverse square root's last bits and the multiplier's 31-bit significand
/// differ by less than one output step except where a value sits on a rounding edge.
final class EmulatedLayerNorm: EmulatedOp {
    let channels: Int
    let fractionBits: Int
    let epsilon: Int64
    let gamma: [Int32], beta: [Int32]
    let rescale: RealRescale

    init(channels: Int, fractionBits: Int, epsilon: Int64, gamma: [Int32], beta: [Int32], rescale: RealRescale) {
        self.channels = channels; self.fractionBits = fractionBits; self.epsilon = epsilon
        self.gamma = gamma; self.beta = beta; self.rescale = rescale
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let input = inputs[0], c = channels
        let scale = Double(Int64(1) << fractionBits)
        for row in 0..<(output.count / c) {
            let base = row * c
            var sum: Int64 = 0, squares: Int64 = 0
            for k in 0..<c {
                let q = Int64(input[base + k])
                sum += q
                squares += q * q
            }
            let norm = Double(Int64(c) * squares - sum * sum + epsilon).squareRoot()
            for k in 0..<c {
                let centered = Double(Int64(c) * Int64(input[base + k]) - sum)
                let n = norm > 0 ? Int64((centered * scale / norm).rounded(.toNearestOrAwayFromZero)) : 0
                let acc = Int64(Int32(clamping: n * Int64(gamma[k]) + Int64(beta[k])))
                output[base + k] = rescale.apply(acc, channel: k)
            }
        }
    }
}
