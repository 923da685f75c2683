import FixedPoint

/// `add` / `subtract`, the per-element math of `ReferenceAdd` unchanged,
///
///     v_i = multiply((q_i - z_i) << leftShift, inputMultiplier[i]),   q = clamp(zout + multiply(sum_i sign_i * v_i, outputMultiplier))
///
/// with the rounding profile fixed at compile time, parameters hoisted out of the loop, unsafe
/// buffers, and the elements split over `threads` contiguous chunks. Two inputs (the residual add)
/// take a loop of their own; more inputs are summed one input at a time into the output.
final class FastAdd: IntegerLayer {
    let reference: ReferenceAdd

    init(_ reference: ReferenceAdd) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        switch reference.profile {
        case .gemmlowp: run(GemmlowpRounding.self, inputs, output, threads)
        case .single: run(SingleRounding.self, inputs, output, threads)
        }
    }

    private func run<R: StaticRounding>(_ rounding: R.Type, _ inputs: [UnsafeBufferPointer<Int32>],
                                        _ output: UnsafeMutableBufferPointer<Int32>, _ threads: Int) {
        let r = reference, requant = r.output, outM = requant.multipliers[0]
        guard output.count > 0 else { return }
        let shift = r.leftShift, out = output.baseAddress!
        if inputs.count == 2 {
            let x0 = inputs[0].baseAddress!, x1 = inputs[1].baseAddress!
            let z0 = r.inputZeros[0], z1 = r.inputZeros[1], m0 = r.inputMultipliers[0].provablyInRange, m1 = r.inputMultipliers[1].provablyInRange
            let s0 = r.signs[0], s1 = r.signs[1]
            parallelChunks(output.count, threads: threads, alignment: 64) { range in
                for i in range {
                    let v0 = R.multiply((x0[i] &- z0) &<< shift, by: m0)
                    let v1 = R.multiply((x1[i] &- z1) &<< shift, by: m1)
                    let sum = s0 &* v0 &+ s1 &* v1 // wraps as ReferenceAdd's running sum
                    out[i] = requant.apply(sum, outM, R.self)
                }
            }
            return
        }
        // More inputs: one input at a time over a chunk, summing into the output buffer (int32 sums wrap
        // the same way in the reference's order), then the output requantization in place.
        let bases = inputs.map { $0.baseAddress! }
        let multipliers = r.inputMultipliers.map(\.provablyInRange), zeros = r.inputZeros, signs = r.signs
        parallelChunks(output.count, threads: threads, alignment: 64) { range in
            for i in range { out[i] = 0 }
            for k in bases.indices {
                let x = bases[k], z = zeros[k], m = multipliers[k], sign = signs[k]
                for i in range { out[i] = out[i] &+ sign &* R.multiply((x[i] &- z) &<< shift, by: m) }
            }
            for i in range { out[i] = requant.apply(out[i], outM, R.self) }
        }
    }
}
