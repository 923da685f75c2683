/// `multiply` (elementwise, TFLite's integer `Mul`):
///
///     acc = (q_0 - z_0) * (q_1 - z_1),   q = clamp(zout + requant(acc, m, s))
final class ReferenceMultiply: IntegerLayer {
    let zero0: Int32, zero1: Int32
    let requant: ChannelRequantizer

    init(zero0: Int32, zero1: Int32, requant: ChannelRequantizer) {
        self.zero0 = zero0; self.zero1 = zero1; self.requant = requant
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        for i in 0..<output.count {
            let acc = (inputs[0][i] &- zero0) &* (inputs[1][i] &- zero1)
            output[i] = requant.apply(acc, channel: 0)
        }
    }
}
