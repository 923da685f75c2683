/// `dense` over the last axis (every leading axis is a row) with a real-valued rescale:
///
///     acc[row, c] = bias[c] + sum_i (x[row, i] - zin) * w[c, i]
///     q           = clamp(zout + round(acc * s_x * s_w[c] / s_out))
///
/// Each row's `x - zin` is formed once, then one exact dot product per output feature (`exactDot`).
final class EmulatedDense: EmulatedOp {
    let rowsPerSample: Int
    let inFeatures: Int, outFeatures: Int
    let inputZero: Int32
    /// `[outFeatures, inFeatures]`.
    let weights: [Int32]
    let bias: [Int32]
    let rescale: RealRescale
    let block: Int

    init(rowsPerSample: Int, inFeatures: Int, outFeatures: Int, inputZero: Int32, maxInputMagnitude: Int64,
         weights: [Int32], bias: [Int32], rescale: RealRescale) {
        self.rowsPerSample = rowsPerSample; self.inFeatures = inFeatures; self.outFeatures = outFeatures
        self.inputZero = inputZero; self.weights = weights; self.bias = bias; self.rescale = rescale
        block = safeBlock(maxA: maxInputMagnitude, maxB: weights.reduce(Int64(0)) { Swift.max($0, abs(Int64($1))) })
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let input = inputs[0]
        let inF = inFeatures, outF = outFeatures, zero = inputZero, block = self.block
        weights.withUnsafeBufferPointer { w in
            parallelChunks(batch * rowsPerSample, costPerItem: inF * outF) { rows in
                let centered = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(1, inF))
                defer { centered.deallocate() }
                for row in rows {
                    for i in 0..<inF { centered[i] = input[row &* inF &+ i] &- zero }
                    for c in 0..<outF {
                        let dot = exactDot(centered, w.baseAddress! + c &* inF, count: inF, block: block)
                        output[row &* outF &+ c] = rescale.apply(Int64(bias[c]) &+ dot, channel: c)
                    }
                }
            }
        }
    }
}
