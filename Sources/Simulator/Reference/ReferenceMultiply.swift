/// `multiply` (elementwise, TFLite's integer `Mul`):
///
///     acc = (q_0 - z_0) * (q_1 - z_1),   q = clamp(zout + requant(acc, m, s))
///
/// With a channel broadcast (`docs/qbin-format.md`, multiply), the `1 x 1 x C` operand's element for
/// output element `i` of sample `n` (per-sample size `S`) is `n * C + i mod C`.
final class ReferenceMultiply: IntegerLayer {
    let zero0: Int32, zero1: Int32
    let requant: ChannelRequantizer
    /// The broadcast operand (0 or 1), its channel count and the output's per-sample size; nil without one.
    let broadcast: (input: Int, channels: Int, perSample: Int)?

    init(zero0: Int32, zero1: Int32, requant: ChannelRequantizer, broadcast: (input: Int, channels: Int, perSample: Int)? = nil) {
        self.zero0 = zero0; self.zero1 = zero1; self.requant = requant; self.broadcast = broadcast
    }

    /// The element of input `k` that output element `i` reads.
    @inline(__always)
    func index(_ k: Int, _ i: Int) -> Int {
        guard let b = broadcast, b.input == k else { return i }
        return (i / b.perSample) &* b.channels &+ i % b.channels
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        for i in 0..<output.count {
            let acc = (inputs[0][index(0, i)] &- zero0) &* (inputs[1][index(1, i)] &- zero1)
            output[i] = requant.apply(acc, channel: 0)
        }
    }
}
