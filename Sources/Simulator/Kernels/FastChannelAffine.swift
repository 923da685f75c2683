import FixedPoint

/// `channelAffine`, the per-element math of `ReferenceChannelAffine` unchanged,
///
///     acc = (x - zin) * a[c] + b[c],   q = clamp(zout + multiply(acc, m[c]))
///
/// over rows of `channels` values (pixels), split over `threads`: the products `(x - zin) * a[c]` are
/// written to the output (a loop that vectorises), then `requantizeRows` adds `b` and requantizes them
/// in place, eight channels at a time.
final class FastChannelAffine: IntegerLayer {
    let reference: ReferenceChannelAffine

    init(_ reference: ReferenceChannelAffine) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let r = reference, channels = r.channels, zin = r.inputZero
        guard output.count > 0 else { return }
        let x = inputs[0].baseAddress!, out = output.baseAddress!
        r.scale.withUnsafeBufferPointer { scale in
            r.offset.withUnsafeBufferPointer { offset in
                let a = scale.baseAddress!, b = offset.baseAddress!
                parallelChunks(output.count / channels, threads: threads, alignment: 16) { pixels in
                    for pixel in pixels {
                        let src = x + pixel &* channels, dst = out + pixel &* channels
                        for c in 0..<channels { dst[c] = (src[c] &- zin) &* a[c] }
                    }
                    let first = out + pixels.lowerBound &* channels
                    r.requant.requantizeRows(first, ldc: channels, rows: pixels.count, channels: channels, bias: b,
                                             firstChannel: 0, into: first, outStride: channels)
                }
            }
        }
    }
}
