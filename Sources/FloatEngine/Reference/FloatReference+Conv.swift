import QCore

extension FloatReference {
    /// `out[n,y,x,o] = act(bias[o] + sum_{ky,kx,i} in[n, y*sh + ky*dh - top, x*sw + kx*dw - left, g*cinG + i] * w[ky,kx,i,o])`
    /// with `g = o / (cout / groups)`; pixels outside the input are 0.
    public static func conv2D(_ conv: Conv2D, input: [Float], inputShape: [Int], batch: Int) -> [Float] {
        let g = conv.geometry
        let inH = inputShape[0], inW = inputShape[1], inC = inputShape[2]
        let (outH, outW) = g.outputSize(inH: inH, inW: inW)
        let outC = conv.outChannels, groupIn = conv.weights.shape[2], groupOut = outC / conv.groups
        precondition(input.count == batch * inH * inW * inC, "FloatReference.conv2D: input size")
        var output = [Float](repeating: 0, count: batch * outH * outW * outC)
        for n in 0..<batch {
            for outY in 0..<outH {
                for outX in 0..<outW {
                    for o in 0..<outC {
                        let group = o / groupOut
                        var sum = Double(conv.bias[o])
                        for filterY in 0..<g.kernelH {
                            let inY = outY * g.strideH + filterY * g.dilationH - g.padding.top
                            guard inY >= 0 && inY < inH else { continue }
                            for filterX in 0..<g.kernelW {
                                let inX = outX * g.strideW + filterX * g.dilationW - g.padding.left
                                guard inX >= 0 && inX < inW else { continue }
                                for i in 0..<groupIn {
                                    let inChannel = group * groupIn + i
                                    let x = input[((n * inH + inY) * inW + inX) * inC + inChannel]
                                    let w = conv.weights.data[((filterY * g.kernelW + filterX) * groupIn + i) * outC + o]
                                    sum += Double(x) * Double(w)
                                }
                            }
                        }
                        output[((n * outH + outY) * outW + outX) * outC + o] = Float(sum)
                    }
                }
            }
        }
        return activation(conv.activation, output, channels: outC)
    }

    /// `out[n,y,x,c*mult+m] = act(bias + sum_{ky,kx} in[n, y*sh + ky*dh - top, x*sw + kx*dw - left, c] * w[ky,kx,c,m])`.
    public static func depthwiseConv2D(_ conv: DepthwiseConv2D, input: [Float], inputShape: [Int], batch: Int) -> [Float] {
        let g = conv.geometry
        let inH = inputShape[0], inW = inputShape[1], inC = inputShape[2]
        let (outH, outW) = g.outputSize(inH: inH, inW: inW)
        let mult = conv.multiplier, outC = conv.outChannels
        precondition(input.count == batch * inH * inW * inC, "FloatReference.depthwiseConv2D: input size")
        var output = [Float](repeating: 0, count: batch * outH * outW * outC)
        for n in 0..<batch {
            for outY in 0..<outH {
                for outX in 0..<outW {
                    for c in 0..<inC {
                        for m in 0..<mult {
                            var sum = Double(conv.bias[c * mult + m])
                            for filterY in 0..<g.kernelH {
                                let inY = outY * g.strideH + filterY * g.dilationH - g.padding.top
                                guard inY >= 0 && inY < inH else { continue }
                                for filterX in 0..<g.kernelW {
                                    let inX = outX * g.strideW + filterX * g.dilationW - g.padding.left
                                    guard inX >= 0 && inX < inW else { continue }
                                    let x = input[((n * inH + inY) * inW + inX) * inC + c]
                                    let w = conv.weights.data[((filterY * g.kernelW + filterX) * inC + c) * mult + m]
                                    sum += Double(x) * Double(w)
                                }
                            }
                            output[((n * outH + outY) * outW + outX) * outC + c * mult + m] = Float(sum)
                        }
                    }
                }
            }
        }
        return activation(conv.activation, output, channels: outC)
    }

    /// The adjoint of a forward conv with the same geometry, written as a scatter: input pixel
    /// `(y, x)` adds `in * w[ky,kx,o,i]` to output pixel `(y*sh + ky*dh - top, x*sw + kx*dw - left)`
    /// when that lies inside the `outputH x outputW` output.
    public static func conv2DTranspose(_ conv: Conv2DTranspose, input: [Float], inputShape: [Int], batch: Int) -> [Float] {
        let g = conv.geometry
        let inH = inputShape[0], inW = inputShape[1], inC = inputShape[2]
        let outH = conv.outputH, outW = conv.outputW, outC = conv.outChannels
        precondition(input.count == batch * inH * inW * inC, "FloatReference.conv2DTranspose: input size")
        var sums = [Double](repeating: 0, count: batch * outH * outW * outC)
        for n in 0..<batch {
            for inY in 0..<inH {
                for inX in 0..<inW {
                    for filterY in 0..<g.kernelH {
                        let outY = inY * g.strideH + filterY * g.dilationH - g.padding.top
                        guard outY >= 0 && outY < outH else { continue }
                        for filterX in 0..<g.kernelW {
                            let outX = inX * g.strideW + filterX * g.dilationW - g.padding.left
                            guard outX >= 0 && outX < outW else { continue }
                            for o in 0..<outC {
                                for i in 0..<inC {
                                    let x = input[((n * inH + inY) * inW + inX) * inC + i]
                                    let w = conv.weights.data[((filterY * g.kernelW + filterX) * outC + o) * inC + i]
                                    sums[((n * outH + outY) * outW + outX) * outC + o] += Double(x) * Double(w)
                                }
                            }
                        }
                    }
                }
            }
        }
        var output = [Float](repeating: 0, count: sums.count)
        for (index, sum) in sums.enumerated() { output[index] = Float(sum + Double(conv.bias[index % outC])) }
        return activation(conv.activation, output, channels: outC)
    }
}
