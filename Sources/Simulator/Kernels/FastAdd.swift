import CInt8Kernels
import FixedPoint

/// `add` / `subtract`, the per-element math of `ReferenceAdd` unchanged,
///
///     v_i = multiply((q_i - z_i) << leftShift, inputMultiplier[i]),   q = clamp(zout + multiply(sum_i sign_i * v_i, outputMultiplier))
///
/// over `threads` contiguous chunks of the elements: each input is rescaled and summed into the output
/// buffer (`qc_rescale_accumulate`, eight lanes at a time; int32 sums wrap, so the order of the inputs
/// does not change them), then the output is requantized in place (`qc_requant_flat`).
final class FastAdd: IntegerLayer {
    let reference: ReferenceAdd

    init(_ reference: ReferenceAdd) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let r = reference, requant = r.output, outM = requant.multipliers[0]
        guard output.count > 0 else { return }
        let out = output.baseAddress!, bases = inputs.map { $0.baseAddress! }
        let profile: Int32 = r.profile == .gemmlowp ? 0 : 1
        parallelChunks(output.count, threads: threads, alignment: 64) { range in
            let n = range.count, o = out + range.lowerBound
            for k in bases.indices {
                let m = r.inputMultipliers[k]
                qc_rescale_accumulate(bases[k] + range.lowerBound, n, r.inputZeros[k], r.leftShift, m.multiplier, m.shift,
                                      r.signs[k], o, k > 0 ? 1 : 0, profile)
            }
            qc_requant_flat(o, n, outM.multiplier, outM.shift, requant.outputZero, requant.lower, requant.upper, o, profile)
        }
    }
}
