import FixedPoint

/// `depthwiseConv2D` with depth multiplier `dm > 1`, without a division per channel per tap: the input
/// is first expanded once to `[batch, inH, inW, inC * dm]` holding `x[.., c / dm] - zin` (an inner loop
/// over `m < dm`, so no division at all), then each output pixel is the contiguous multiply-add of
/// `FastDepthwiseConv2D` over `outC = inC * dm` channels:
///
///     acc[c] = bias[c] + sum over taps inside the input of expanded[inY, inX, c] * w[tap, c]
///
/// The products and wrapping int32 sums are those of `ReferenceDepthwiseConv2D`, in the same tap order;
/// requantization uses the rounding profile fixed at compile time. Both phases split rows over `threads`.
final class FastDepthwiseMultiplierConv2D: IntegerLayer {
    let p: ConvParams
    /// `[kernelH, kernelW, outC]`.
    let tapWeights: [Int32]

    init(_ params: ConvParams) {
        p = params
        var t = [Int32](repeating: 0, count: params.weights.count)
        let taps = params.kernelH * params.kernelW
        for c in 0..<params.outC {
            for tap in 0..<taps { t[tap * params.outC + c] = params.weights[c * taps + tap] }
        }
        tapWeights = t
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        guard output.count > 0 else { return }
        switch p.requant.profile {
        case .gemmlowp: run(GemmlowpRounding.self, inputs[0], output, batch, threads)
        case .single: run(SingleRounding.self, inputs[0], output, batch, threads)
        }
    }

    private func run<R: StaticRounding>(_ rounding: R.Type, _ inputBuffer: UnsafeBufferPointer<Int32>,
                                        _ output: UnsafeMutableBufferPointer<Int32>, _ batch: Int, _ threads: Int) {
        let p = self.p, channels = p.outC, dm = p.depthMultiplier, zin = p.inputZero
        let input = inputBuffer.baseAddress!, out = output.baseAddress!
        let inPixels = batch * p.inH * p.inW
        let expanded = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(inPixels * channels, 1))
        defer { expanded.deallocate() }
        parallelChunks(inPixels, threads: threads, alignment: 16) { pixels in
            for pixel in pixels {
                let src = input + pixel &* p.inC, dst = expanded + pixel &* channels
                for inChannel in 0..<p.inC {
                    let v = src[inChannel] &- zin
                    let row = dst + inChannel &* dm
                    for m in 0..<dm { row[m] = v }
                }
            }
        }
        let x0 = UnsafePointer(expanded)
        tapWeights.withUnsafeBufferPointer { weights in
            p.bias.withUnsafeBufferPointer { bias in
                p.requant.multipliers.withUnsafeBufferPointer { multipliers in
                    let weights = weights.baseAddress!, bias = bias.baseAddress!, m = multipliers.baseAddress!
                    parallelChunks(batch * p.outH, threads: threads) { rows in
                        let acc = UnsafeMutablePointer<Int32>.allocate(capacity: channels)
                        defer { acc.deallocate() }
                        for row in rows {
                            let b = row / p.outH, outY = row % p.outH
                            for outX in 0..<p.outW {
                                for c in 0..<channels { acc[c] = bias[c] }
                                for filterY in 0..<p.kernelH {
                                    let inY = outY &* p.strideH &+ filterY &* p.dilationH &- p.padTop
                                    if inY < 0 || inY >= p.inH { continue }
                                    for filterX in 0..<p.kernelW {
                                        let inX = outX &* p.strideW &+ filterX &* p.dilationW &- p.padLeft
                                        if inX < 0 || inX >= p.inW { continue }
                                        let x = x0 + ((b &* p.inH &+ inY) &* p.inW &+ inX) &* channels
                                        let w = weights + (filterY &* p.kernelW &+ filterX) &* channels
                                        for c in 0..<channels { acc[c] = acc[c] &+ x[c] &* w[c] }
                                    }
                                }
                                let dst = out + ((b &* p.outH &+ outY) &* p.outW &+ outX) &* channels
                                for c in 0..<channels { dst[c] = p.requant.apply(acc[c], m[c], R.self) }
                            }
                        }
                    }
                }
            }
        }
    }
}
