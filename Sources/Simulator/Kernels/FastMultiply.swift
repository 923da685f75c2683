import CInt8Kernels
import FixedPoint

/// `multiply`, the per-element math of `ReferenceMultiply` unchanged,
///
///     acc = (q_0 - z_0) * (q_1 - z_1),   q = clamp(zout + multiply(acc, m))
///
/// over `threads` contiguous chunks: the products in a loop that vectorises (int32, wrapping), then
/// the requantization in place (`qc_requant_flat`).
final class FastMultiply: IntegerLayer {
    let reference: ReferenceMultiply

    init(_ reference: ReferenceMultiply) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let r = reference, requant = r.requant, m = requant.multipliers[0]
        guard output.count > 0 else { return }
        let x0 = inputs[0].baseAddress!, x1 = inputs[1].baseAddress!, out = output.baseAddress!
        let z0 = r.zero0, z1 = r.zero1
        let profile: Int32 = requant.profile == .gemmlowp ? 0 : 1
        parallelChunks(output.count, threads: threads, alignment: 64) { range in
            for i in range { out[i] = (x0[i] &- z0) &* (x1[i] &- z1) }
            let o = out + range.lowerBound
            qc_requant_flat(o, range.count, m.multiplier, m.shift, requant.outputZero, requant.lower, requant.upper, o, profile)
        }
    }
}
