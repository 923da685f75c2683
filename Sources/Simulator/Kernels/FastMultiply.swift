
/// `multiply`, the per-element math of `ReferenceMultiply` unchanged,
///
///     acc = (q_0 - z_0) * (q_1 - z_1),   q = clamp(zout + multiply(acc, m))
///
/// over `threads` contiguous chunks: the products in a loop that vectorises (int32, wrapping), then
/// the requantization in place (`requantizeInPlace`).
final class FastMultiply: IntegerLayer {
    let reference: ReferenceMultiply

    init(_ reference: ReferenceMultiply) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let r = reference
        guard output.count > 0 else { return }
        let x0 = inputs[0].baseAddress!, x1 = inputs[1].baseAddress!, out = output.baseAddress!
        let z0 = r.zero0, z1 = r.zero1, requant = r.requant.perTensor
        parallelChunks(output.count, threads: threads, alignment: 64) { range in
            for i in range { out[i] = (x0[i] &- z0) &* (x1[i] &- z1) }
            requant.requantizeInPlace(out + range.lowerBound, count: range.count)
        }
    }
}
