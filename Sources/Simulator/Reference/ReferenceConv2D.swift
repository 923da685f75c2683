/// `conv2D`, scalar reference (TFLite `reference_integer_ops::ConvPerChannel` shape):
///
///     acc[c] = bias[c] + sum_{filterY, filterX, i} (x[inY, inX, g * cinG + i] - zin) * w[c, filterY, filterX, i]
///     inY = outY * strideH + filterY * dilationH - padTop,  g = c / (C / groups)
///
/// A tap in the padding reads `zin` (real zero), so it adds nothing and is skipped.
/// Accumulation wraps in int32 (`&+`); |acc| stays below 2^31 while K * 255 * 128 + |bias| < 2^31,
/// i.e. K < 65,000 for 8-bit inputs and weights, and the fast kernels wrap identically beyond that.
final class ReferenceConv2D: IntegerLayer {
    let p: ConvParams

    init(_ params: ConvParams) { p = params }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0]
        let cinG = p.inChannelsPerGroup, coutG = p.outChannelsPerGroup
        p.weights.withUnsafeBufferPointer { w in
            for b in 0..<batch {
                for outY in 0..<p.outH {
                    for outX in 0..<p.outW {
                        for outChannel in 0..<p.outC {
                            let group = outChannel / coutG
                            var acc = p.bias[outChannel]
                            for filterY in 0..<p.kernelH {
                                let inY = outY * p.strideH + filterY * p.dilationH - p.padTop
                                if inY < 0 || inY >= p.inH { continue }
                                for filterX in 0..<p.kernelW {
                                    let inX = outX * p.strideW + filterX * p.dilationW - p.padLeft
                                    if inX < 0 || inX >= p.inW { continue }
                                    for i in 0..<cinG {
                                        let inValue = input[((b * p.inH + inY) * p.inW + inX) * p.inC + group * cinG + i]
                                        let weight = w[((outChannel * p.kernelH + filterY) * p.kernelW + filterX) * cinG + i]
                                        acc = acc &+ (inValue &- p.inputZero) &* weight
                                    }
                                }
                            }
                            output[((b * p.outH + outY) * p.outW + outX) * p.outC + outChannel] = p.requant.apply(acc, channel: outChannel)
                        }
                    }
                }
            }
        }
    }
}
