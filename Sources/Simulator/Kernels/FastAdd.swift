import CKernels

/// `add` / `subtract`, the per-element math of `ReferenceAdd` unchanged,
///
///     v_i = multiply((q_i - z_i) << leftShift, inputMultiplier[i]),   q = clamp(zout + multiply(sum_i sign_i * v_i, outputMultiplier))
///
/// over `threads` contiguous chunks of the elements: each input is rescaled and summed into the output
/// buffer (`qc_rescale_accumulate`, eight lanes at a time; int32 sums wrap, so the order of the inputs
/// does not change them), then the output is requantized in place (`requantizeInPlace`). Two inputs
/// (nearly every add) take `qc_add2_requant`, the same steps in one pass over the values.
final class FastAdd: IntegerLayer {
    let reference: ReferenceAdd

    init(_ reference: ReferenceAdd) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let r = reference
        guard output.count > 0 else { return }
        let out = output.baseAddress!, bases = inputs.map { $0.baseAddress! }
        let profile = r.profile.kernelCode, requant = r.output.perTensor
        if bases.count == 2 {
            // Both inputs and the requantization in one pass where the level has it (`qc_add2_requant`).
            let m0 = r.inputMultipliers[0], m1 = r.inputMultipliers[1], m = requant.multiplier
            parallelChunks(output.count, threads: threads, alignment: 64) { range in
                qc_add2_requant(bases[0] + range.lowerBound, bases[1] + range.lowerBound, range.count, r.inputZeros[0],
                                r.inputZeros[1], r.leftShift, m0.multiplier, m0.shift, m1.multiplier, m1.shift, r.signs[0],
                                r.signs[1], m.multiplier, m.shift, requant.outputZero, requant.lower, requant.upper,
                                out + range.lowerBound, profile)
            }
            return
        }
        parallelChunks(output.count, threads: threads, alignment: 64) { range in
            let n = range.count, o = out + range.lowerBound
            for k in bases.indices {
                let m = r.inputMultipliers[k]
                qc_rescale_accumulate(bases[k] + range.lowerBound, n, r.inputZeros[k], r.leftShift, m.multiplier, m.shift,
                                      r.signs[k], o, k > 0 ? 1 : 0, profile)
            }
            requant.requantizeInPlace(o, count: n)
        }
    }
}
