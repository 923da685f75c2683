/// `zeroPadding2D`: copies `[H, W, C]` into `[H + top + bottom, W + left + right, C]`, the border filled
/// with `zin` (the quantized real zero).
final class ReferenceZeroPadding2D: IntegerLayer {
    let inH: Int, inW: Int, channels: Int
    let top: Int, left: Int, outH: Int, outW: Int
    let zero: Int32

    init(inH: Int, inW: Int, channels: Int, top: Int, left: Int, outH: Int, outW: Int, zero: Int32) {
        self.inH = inH; self.inW = inW; self.channels = channels
        self.top = top; self.left = left; self.outH = outH; self.outW = outW; self.zero = zero
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        for i in 0..<output.count { output[i] = zero }
        for b in 0..<batch {
            for inY in 0..<inH {
                for inX in 0..<inW {
                    for channel in 0..<channels {
                        let outIndex = ((b * outH + inY + top) * outW + inX + left) * channels + channel
                        output[outIndex] = inputs[0][((b * inH + inY) * inW + inX) * channels + channel]
                    }
                }
            }
        }
    }
}
