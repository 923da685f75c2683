/// `requantize` (a change of scale / zero point / type):
///
///     q = clamp(zout + requant(q_x - zin, m, s))
final class ReferenceRequantize: IntegerLayer {
    let inputZero: Int32
    let requant: ChannelRequantizer

    init(inputZero: Int32, requant: ChannelRequantizer) { self.inputZero = inputZero; self.requant = requant }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        for i in 0..<output.count { output[i] = requant.apply(inputs[0][i] &- inputZero, channel: 0) }
    }
}
