import CKernels
import FixedPoint

/// `depthwiseConv2D` with depth multiplier `dm > 1`, without a division per channel per tap: the input
/// is first expanded once to `[batch, inH, inW, inC * dm]` holding `x[.., c / dm] - zin` (an inner loop
/// over `m < dm`, so no division at all), then each output pixel is the contiguous multiply-add of
/// `FastDepthwiseConv2D` over `outC = inC * dm` channels:
///
///     acc[c] = bias[c] + sum over taps inside the input of expanded[inY, inX, c] * w[tap, c]
///
/// The products and wrapping int32 sums are those of `ReferenceDepthwiseConv2D` (int32 adds wrap, so
/// the order does not change them): the sums of one output row come from the C kernel of the active
/// level (`qc_depthwise_row_i32` on the expanded input with zero point 0, bias left out) and
/// `requantizeRows` adds the bias and requantizes. Both phases split rows over `threads`.
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
        let p = self.p, channels = p.outC, dm = p.depthMultiplier, zin = p.inputZero, outW = p.outW
        let input = inputs[0].baseAddress!, out = output.baseAddress!
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
                let weights = weights.baseAddress!, bias = bias.baseAddress!
                parallelChunks(batch * p.outH, threads: threads) { rows in
                    let acc = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(1, outW * channels))
                    defer { acc.deallocate() }
                    for row in rows {
                        let b = row / p.outH, outY = row % p.outH
                        qc_depthwise_row_i32(x0 + b &* p.inH &* p.inW &* channels, p.inH, p.inW, channels, weights, 0,
                                             p.kernelH, p.kernelW, p.strideH, p.strideW, p.dilationH, p.dilationW, p.padTop,
                                             p.padLeft, outY, outW, acc)
                        p.requant.requantizeRows(acc, ldc: channels, rows: outW, channels: channels, bias: bias, firstChannel: 0,
                                                 into: out + row &* outW &* channels, outStride: channels)
                    }
                }
            }
        }
    }
}
