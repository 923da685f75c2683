/// `maxPool2D`: the largest value of each window over the pixels inside the input (padding is
/// excluded). A window lying wholly in the padding gives `zin` (real zero). No clamp: the output
/// shares the input's scale and zero point.
struct PoolParams: Sendable {
    var inH: Int, inW: Int, channels: Int
    var outH: Int, outW: Int
    var kernelH: Int, kernelW: Int
    var strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int
    var zero: Int32
    var lower: Int32, upper: Int32

    /// The input rows and columns of window (outY, outX), clipped to the input.
    @inline(__always)
    func window(_ outY: Int, _ outX: Int) -> (ys: Range<Int>, xs: Range<Int>) {
        let y0 = outY * strideH - padTop, x0 = outX * strideW - padLeft
        let ys = Swift.max(y0, 0)..<Swift.max(Swift.min(y0 + kernelH, inH), Swift.max(y0, 0))
        let xs = Swift.max(x0, 0)..<Swift.max(Swift.min(x0 + kernelW, inW), Swift.max(x0, 0))
        return (ys, xs)
    }
}

final class ReferenceMaxPool2D: IntegerLayer {
    let p: PoolParams

    init(_ params: PoolParams) { p = params }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0]
        for b in 0..<batch {
            for outY in 0..<p.outH {
                for outX in 0..<p.outW {
                    let (ys, xs) = p.window(outY, outX)
                    for channel in 0..<p.channels {
                        var best = Int32.min
                        for inY in ys {
                            for inX in xs {
                                best = Swift.max(best, input[((b * p.inH + inY) * p.inW + inX) * p.channels + channel])
                            }
                        }
                        output[((b * p.outH + outY) * p.outW + outX) * p.channels + channel] = ys.isEmpty || xs.isEmpty ? p.zero : best
                    }
                }
            }
        }
    }
}
