import FixedPoint

/// `channelAffine`, the per-element math of `ReferenceChannelAffine` unchanged,
///
///     acc = (x - zin) * a[c] + b[c],   q = clamp(zout + multiply(acc, m[c]))
///
/// over rows of `channels` values (pixels), split over `threads`; per-channel scale, offset and
/// multiplier read through unsafe pointers, the rounding profile fixed at compile time.
final class FastChannelAffine: IntegerLayer {
    let reference: ReferenceChannelAffine

    init(_ reference: ReferenceChannelAffine) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        switch reference.requant.profile {
        case .gemmlowp: run(GemmlowpRounding.self, inputs[0], output, threads)
        case .single: run(SingleRounding.self, inputs[0], output, threads)
        }
    }

    private func run<R: StaticRounding>(_ rounding: R.Type, _ input: UnsafeBufferPointer<Int32>,
                                        _ output: UnsafeMutableBufferPointer<Int32>, _ threads: Int) {
        let r = reference, requant = r.requant, channels = r.channels, zin = r.inputZero
        guard output.count > 0 else { return }
        let x = input.baseAddress!, out = output.baseAddress!
        r.scale.withUnsafeBufferPointer { scale in
            r.offset.withUnsafeBufferPointer { offset in
                requant.multipliers.withUnsafeBufferPointer { multipliers in
                    let a = scale.baseAddress!, b = offset.baseAddress!, m = multipliers.baseAddress!
                    parallelChunks(output.count / channels, threads: threads, alignment: 16) { pixels in
                        for pixel in pixels {
                            let src = x + pixel &* channels, dst = out + pixel &* channels
                            for c in 0..<channels {
                                dst[c] = requant.apply((src[c] &- zin) &* a[c] &+ b[c], m[c], R.self)
                            }
                        }
                    }
                }
            }
        }
    }
}
