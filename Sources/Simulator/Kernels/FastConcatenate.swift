
/// `concatenate`, the per-element math of `ReferenceConcatenate` unchanged,
///
///     q' = clamp(zout + multiply(q_i - z_i, inputMultiplier[i]), min(type), max(type))
///
/// over `threads` chunks of the outer rows: each input's slice is written as `q_i - z_i` into its place
/// in the output row, then requantized there (`requantizeInPlace`, eight lanes at a time).
final class FastConcatenate: IntegerLayer {
    let reference: ReferenceConcatenate

    init(_ reference: ReferenceConcatenate) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let r = reference, inner = r.innerCounts, outInner = inner.reduce(0, +)
        guard outInner > 0 else { return }
        let bases = inputs.map { $0.baseAddress! }, out = output.baseAddress!
        let requants = r.requants.map(\.perTensor)
        parallelChunks(batch * r.outerCount, threads: threads, alignment: 16) { rows in
            for outer in rows {
                var dst = out + outer &* outInner
                for i in bases.indices {
                    let n = inner[i], src = bases[i] + outer &* n, z = r.inputZeros[i]
                    for j in 0..<n { dst[j] = src[j] &- z }
                    requants[i].requantizeInPlace(dst, count: n)
                    dst += n
                }
            }
        }
    }
}
