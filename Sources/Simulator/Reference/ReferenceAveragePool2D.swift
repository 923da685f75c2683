/// `averagePool2D`: the rounded mean of the stored values of each window over the pixels inside the
/// input (padding excluded), then the clamp:
///
///     q = clamp(roundedMean(sum q, count))   roundedMean: nearest integer, ties away from zero
///
/// computed exactly in int64 as `(sum + count / 2) / count` for `sum >= 0` and
/// `(sum - count / 2) / count` otherwise (truncating division), TFLite's rule. Input and output share
/// scale and zero point. A window lying wholly in the padding gives `zin`.
final class ReferenceAveragePool2D: IntegerLayer {
    let p: PoolParams

    init(_ params: PoolParams) { p = params }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0]
        for b in 0..<batch {
            for outY in 0..<p.outH {
                for outX in 0..<p.outW {
                    let (ys, xs) = p.window(outY, outX)
                    let count = ys.count * xs.count
                    for channel in 0..<p.channels {
                        var sum: Int64 = 0
                        for inY in ys {
                            for inX in xs {
                                sum += Int64(input[((b * p.inH + inY) * p.inW + inX) * p.channels + channel])
                            }
                        }
                        let mean = count == 0 ? p.zero : roundedMean(sum, count)
                        output[((b * p.outH + outY) * p.outW + outX) * p.channels + channel] = Swift.min(Swift.max(mean, p.lower), p.upper)
                    }
                }
            }
        }
    }
}

/// `sum / count` rounded to nearest, ties away from zero (`count > 0`); the average pools' rounding.
@inline(__always)
func roundedMean(_ sum: Int64, _ count: Int) -> Int32 {
    let n = Int64(count)
    let q = sum >= 0 ? (sum + n / 2) / n : (sum - n / 2) / n
    return Int32(truncatingIfNeeded: q)
}
