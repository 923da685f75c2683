/// `zeroPadding2D`: copies `[H, W, C]` into `[H + top + bottom, W + left + right, C]`, the border filled
/// with `zin` (the quantized real zero). Negative padding crops: `out[y][x] = in[y - top][x - left]`
/// where that lies inside the input, else `zin`.
final class ReferenceZeroPadding2D: IntegerLayer {
    let inH: Int, inW: Int, channels: Int
    let top: Int, left: Int, outH: Int, outW: Int
    let zero: Int32

    init(inH: Int, inW: Int, channels: Int, top: Int, left: Int, outH: Int, outW: Int, zero: Int32) {
        self.inH = inH; self.inW = inW; self.channels = channels
        self.top = top; self.left = left; self.outH = outH; self.outW = outW; self.zero = zero
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        for b in 0..<batch {
            for outY in 0..<outH {
                for outX in 0..<outW {
                    let inY = outY - top, inX = outX - left
                    let inside = inY >= 0 && inY < inH && inX >= 0 && inX < inW
                    for channel in 0..<channels {
                        output[((b * outH + outY) * outW + outX) * channels + channel] =
                            inside ? inputs[0][((b * inH + inY) * inW + inX) * channels + channel] : zero
                    }
                }
            }
        }
    }
}
