/// `channelAffine` (a BatchNorm that could not be folded), over the last axis:
///
///     acc = (x - zin) * a[c] + b[c],   q = clamp(zout + round(acc * s_x * s_a[c] / s_out))
final class EmulatedChannelAffine: EmulatedOp {
    let channels: Int
    let inputZero: Int32
    let scale: [Int32], offset: [Int32]
    let rescale: RealRescale

    init(channels: Int, inputZero: Int32, scale: [Int32], offset: [Int32], rescale: RealRescale) {
        self.channels = channels; self.inputZero = inputZero; self.scale = scale; self.offset = offset; self.rescale = rescale
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let input = inputs[0]
        for i in 0..<output.count {
            let c = i % channels
            let acc = Int64(input[i] &- inputZero) * Int64(scale[c]) + Int64(offset[c])
            output[i] = rescale.apply(acc, channel: c)
        }
    }
}

/// `add` / `subtract` in real arithmetic (what TFLite's `left_shift` / input multipliers approximate):
///
///     q = clamp(zout + round(sum_i sign_i * (s_i / s_out) * (q_i - z_i)))
///
/// `sign_i` is +1, except -1 for the second input of `subtract`. No broadcasting.
final class EmulatedAdd: EmulatedOp {
    let inputZeros: [Int32]
    /// `sign_i * s_i / s_out`, in Double.
    let factors: [Double]
    let outputZero: Int32, lower: Int32, upper: Int32

    init(inputZeros: [Int32], factors: [Double], outputZero: Int32, lower: Int32, upper: Int32) {
        self.inputZeros = inputZeros; self.factors = factors
        self.outputZero = outputZero; self.lower = lower; self.upper = upper
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        for index in 0..<output.count {
            var sum = 0.0
            for i in inputs.indices { sum += factors[i] * Double(inputs[i][index] &- inputZeros[i]) }
            output[index] = quantizeReal(sum, zero: outputZero, lower: lower, upper: upper)
        }
    }
}

/// `multiply`: `q = clamp(zout + round((s_0 * s_1 / s_out) * (q_0 - z_0) * (q_1 - z_1)))`.
final class EmulatedMultiply: EmulatedOp {
    let zero0: Int32, zero1: Int32
    let rescale: RealRescale
    /// A `1 x 1 x C` operand (0 or 1), its channels and the output's per-sample size; nil without one.
    let broadcast: (input: Int, channels: Int, perSample: Int)?

    init(zero0: Int32, zero1: Int32, rescale: RealRescale, broadcast: (input: Int, channels: Int, perSample: Int)? = nil) {
        self.zero0 = zero0; self.zero1 = zero1; self.rescale = rescale; self.broadcast = broadcast
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        for i in 0..<output.count {
            var j0 = i, j1 = i
            if let b = broadcast {
                let j = (i / b.perSample) * b.channels + i % b.channels
                if b.input == 0 { j0 = j } else { j1 = j }
            }
            let acc = Int64(inputs[0][j0] &- zero0) * Int64(inputs[1][j1] &- zero1)
            output[i] = rescale.apply(acc, channel: 0)
        }
    }
}

/// `requantize` (a change of scale / zero point / type): `q = clamp(zout + round((s_x / s_out) * (q_x - zin)))`.
final class EmulatedRequantize: EmulatedOp {
    let inputZero: Int32
    let rescale: RealRescale

    init(inputZero: Int32, rescale: RealRescale) { self.inputZero = inputZero; self.rescale = rescale }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        for i in 0..<output.count { output[i] = rescale.apply(Int64(inputs[0][i] &- inputZero), channel: 0) }
    }
}

/// `concatenate` along a per-sample axis, each input rescaled to the output's parameters and
/// saturated to the output type (the op has no clamp attribute):
///
///     q' = clamp(zout + round((s_i / s_out) * (q_i - z_i)), min(type), max(type))
///
/// Same-scale inputs have a factor of exactly 1, so they are copied (shifted by the zero points).
final class EmulatedConcatenate: EmulatedOp {
    /// Product of the per-sample dimensions before the axis.
    let outerCount: Int
    /// Per input: its extent along the axis times the product of the dimensions after it.
    let innerCounts: [Int]
    let inputZeros: [Int32]
    /// Per input: factor `s_i / s_out`, the output zero point and the output type's range.
    let rescales: [RealRescale]

    init(outerCount: Int, innerCounts: [Int], inputZeros: [Int32], rescales: [RealRescale]) {
        self.outerCount = outerCount; self.innerCounts = innerCounts; self.inputZeros = inputZeros; self.rescales = rescales
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let outInner = innerCounts.reduce(0, +)
        for outer in 0..<batch * outerCount {
            var offset = outer * outInner
            for i in inputs.indices {
                let inner = innerCounts[i]
                for j in 0..<inner {
                    output[offset + j] = rescales[i].apply(Int64(inputs[i][outer * inner + j] &- inputZeros[i]), channel: 0)
                }
                offset += inner
            }
        }
    }
}
