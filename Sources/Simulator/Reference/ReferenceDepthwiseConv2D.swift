/// `depthwiseConv2D`, scalar reference: output channel `c` reads input channel `c / depthMultiplier`,
///
///     acc[c] = bias[c] + sum_{filterY, filterX} (x[inY, inX, c / dm] - zin) * w[c, filterY, filterX]
///
/// with the geometry of `conv2D` (padding reads `zin`, so padded taps are skipped).
final class ReferenceDepthwiseConv2D: IntegerLayer {
    let p: ConvParams

    init(_ params: ConvParams) { p = params }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0]
        for b in 0..<batch {
            for outY in 0..<p.outH {
                for outX in 0..<p.outW {
                    for outChannel in 0..<p.outC {
                        let inChannel = outChannel / p.depthMultiplier
                        var acc = p.bias[outChannel]
                        for filterY in 0..<p.kernelH {
                            let inY = outY * p.strideH + filterY * p.dilationH - p.padTop
                            if inY < 0 || inY >= p.inH { continue }
                            for filterX in 0..<p.kernelW {
                                let inX = outX * p.strideW + filterX * p.dilationW - p.padLeft
                                if inX < 0 || inX >= p.inW { continue }
                                let inValue = input[((b * p.inH + inY) * p.inW + inX) * p.inC + inChannel]
                                let weight = p.weights[(outChannel * p.kernelH + filterY) * p.kernelW + filterX]
                                acc = acc &+ (inValue &- p.inputZero) &* weight
                            }
                        }
                        output[((b * p.outH + outY) * p.outW + outX) * p.outC + outChannel] = p.requant.apply(acc, channel: outChannel)
                    }
                }
            }
        }
    }
}
