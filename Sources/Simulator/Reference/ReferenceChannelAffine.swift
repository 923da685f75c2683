/// `channelAffine` (a BatchNorm that could not be folded), over the last axis:
///
///     acc = (x - zin) * a[c] + b[c],   q = clamp(zout + requant(acc, m[c], s[c]))
final class ReferenceChannelAffine: IntegerLayer {
    let channels: Int
    let inputZero: Int32
    let scale: [Int32], offset: [Int32]
    let requant: ChannelRequantizer

    init(channels: Int, inputZero: Int32, scale: [Int32], offset: [Int32], requant: ChannelRequantizer) {
        self.channels = channels; self.inputZero = inputZero; self.scale = scale; self.offset = offset; self.requant = requant
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0]
        for i in 0..<output.count {
            let channel = i % channels
            let acc = (input[i] &- inputZero) &* scale[channel] &+ offset[channel]
            output[i] = requant.apply(acc, channel: channel)
        }
    }
}
