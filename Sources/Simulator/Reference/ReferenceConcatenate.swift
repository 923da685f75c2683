/// `concatenate` along a per-sample axis, each input rescaled to the output's parameters:
///
///     q' = clamp(zout + requant(q_i - z_i, inputMultiplier[i]), min(type), max(type))
///
/// The op has no clamp attribute: values saturate to the output type (a multiplier of 2^30 with
/// shift 1 is the identity, so same-scale inputs are copied).
final class ReferenceConcatenate: IntegerLayer {
    /// Product of the per-sample dimensions before the axis.
    let outerCount: Int
    /// Per input: its extent along the axis times the product of the dimensions after it.
    let innerCounts: [Int]
    let inputZeros: [Int32]
    let requants: [ChannelRequantizer]

    init(outerCount: Int, innerCounts: [Int], inputZeros: [Int32], requants: [ChannelRequantizer]) {
        self.outerCount = outerCount; self.innerCounts = innerCounts; self.inputZeros = inputZeros; self.requants = requants
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let outInner = innerCounts.reduce(0, +)
        for outer in 0..<batch * outerCount {
            var offset = outer * outInner
            for i in inputs.indices {
                let inner = innerCounts[i]
                for j in 0..<inner {
                    output[offset + j] = requants[i].apply(inputs[i][outer * inner + j] &- inputZeros[i], channel: 0)
                }
                offset += inner
            }
        }
    }
}
