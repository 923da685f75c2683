/// `conv2DTranspose`, scalar reference: the adjoint of `conv2D` with the same geometry. Each input
/// pixel scatters into the output positions it would have been read from:
///
///     outY = inY * strideH + filterY * dilationH - padTop   (dropped unless 0 <= outY < outH)
///     acc[outY, outX, c] = bias[c] + sum (x[inY, inX, i] - zin) * w[c, filterY, filterX, i]
///
/// Weights `[C, kernelH, kernelW, inC]`; positions no input reaches get `bias[c]` alone.
final class ReferenceConv2DTranspose: IntegerLayer {
    let p: ConvParams

    init(_ params: ConvParams) { p = params }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0]
        var acc = [Int32](repeating: 0, count: p.outH * p.outW * p.outC)
        for b in 0..<batch {
            for i in acc.indices { acc[i] = p.bias[i % p.outC] }
            for inY in 0..<p.inH {
                for inX in 0..<p.inW {
                    for filterY in 0..<p.kernelH {
                        let outY = inY * p.strideH + filterY * p.dilationH - p.padTop
                        if outY < 0 || outY >= p.outH { continue }
                        for filterX in 0..<p.kernelW {
                            let outX = inX * p.strideW + filterX * p.dilationW - p.padLeft
                            if outX < 0 || outX >= p.outW { continue }
                            for outChannel in 0..<p.outC {
                                var sum: Int32 = 0
                                for inChannel in 0..<p.inC {
                                    let inValue = input[((b * p.inH + inY) * p.inW + inX) * p.inC + inChannel]
                                    let weight = p.weights[((outChannel * p.kernelH + filterY) * p.kernelW + filterX) * p.inC + inChannel]
                                    sum = sum &+ (inValue &- p.inputZero) &* weight
                                }
                                let index = (outY * p.outW + outX) * p.outC + outChannel
                                acc[index] = acc[index] &+ sum
                            }
                        }
                    }
                }
            }
            let base = b * p.outH * p.outW * p.outC
            for i in acc.indices { output[base + i] = p.requant.apply(acc[i], channel: i % p.outC) }
        }
    }
}
