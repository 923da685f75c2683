import CKernels

/// `concatenate`, the per-element math of `ReferenceConcatenate` unchanged,
///
///     q' = clamp(zout + multiply(q_i - z_i, inputMultiplier[i]), min(type), max(type))
///
/// over `threads` chunks of the outer rows. Each input is one `qc_requant_rows` call per chunk, reading
/// its rows where they lie and writing them into their place in the output rows: its per-tensor
/// multiplier repeated over its `inner` values as the per-channel parameters, and `-z_i` as the bias
/// (`q_i + (-z_i)` wraps exactly as `q_i - z_i` does).
final class FastConcatenate: IntegerLayer {
    let reference: ReferenceConcatenate
    /// Per input, its requantization as plain values.
    let requants: [PerTensorRequantizer]
    /// Per input, `-z_i`, the multiplier's significand and its shift, each repeated `inner` times.
    let biases: [[Int32]], significands: [[Int32]], shifts: [[Int32]]

    init(_ reference: ReferenceConcatenate) {
        self.reference = reference
        let requants = reference.requants.map(\.perTensor)
        let inner = reference.innerCounts
        self.requants = requants
        biases = inner.indices.map { [Int32](repeating: 0 &- reference.inputZeros[$0], count: inner[$0]) }
        significands = inner.indices.map { [Int32](repeating: requants[$0].multiplier.multiplier, count: inner[$0]) }
        shifts = inner.indices.map { [Int32](repeating: requants[$0].multiplier.shift, count: inner[$0]) }
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let inner = reference.innerCounts, outInner = inner.reduce(0, +)
        guard outInner > 0 else { return }
        let bases = inputs.map { $0.baseAddress! }, out = output.baseAddress!
        parallelChunks(batch * reference.outerCount, threads: threads, alignment: 16) { rows in
            guard !rows.isEmpty else { return }
            var offset = 0
            for i in bases.indices where inner[i] > 0 {
                let n = inner[i], q = self.requants[i]
                self.biases[i].withUnsafeBufferPointer { bias in
                    self.significands[i].withUnsafeBufferPointer { m in
                        self.shifts[i].withUnsafeBufferPointer { s in
                            qc_requant_rows(bases[i] + rows.lowerBound &* n, n, rows.count, n, bias.baseAddress!, m.baseAddress!,
                                            s.baseAddress!, q.outputZero, q.lower, q.upper,
                                            out + (rows.lowerBound &* outInner &+ offset), outInner, q.profile)
                        }
                    }
                }
                offset &+= n
            }
        }
    }
}
