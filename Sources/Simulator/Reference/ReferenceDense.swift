/// `dense`, scalar reference over the last axis (every leading axis is a row):
///
///     acc[row, c] = bias[c] + sum_i (x[row, i] - zin) * w[c, i]
struct DenseParams: Sendable {
    var rowsPerSample: Int
    var inFeatures: Int, outFeatures: Int
    var inputZero: Int32
    /// `[outFeatures, inFeatures]`.
    var weights: [Int32]
    var bias: [Int32]
    var requant: ChannelRequantizer
}

final class ReferenceDense: IntegerLayer {
    let p: DenseParams

    init(_ params: DenseParams) { p = params }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0]
        for row in 0..<batch * p.rowsPerSample {
            for outChannel in 0..<p.outFeatures {
                var acc = p.bias[outChannel]
                for i in 0..<p.inFeatures {
                    acc = acc &+ (input[row * p.inFeatures + i] &- p.inputZero) &* p.weights[outChannel * p.inFeatures + i]
                }
                output[row * p.outFeatures + outChannel] = p.requant.apply(acc, channel: outChannel)
            }
        }
    }
}
