/// Window geometry of `maxPool2D` / `averagePool2D` (NHWC, explicit padding).
struct PoolGeometry: Sendable {
    var inH: Int, inW: Int, channels: Int
    var outH: Int, outW: Int
    var kernelH: Int, kernelW: Int
    var strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int
    /// The input zero point: what a window lying wholly in the padding gives.
    var zero: Int32
    var lower: Int32, upper: Int32

    /// The input rows and columns of window (outY, outX) that lie inside the input (padding excluded).
    func window(_ outY: Int, _ outX: Int) -> (ys: Range<Int>, xs: Range<Int>) {
        let y0 = outY * strideH - padTop, x0 = outX * strideW - padLeft
        let y1 = Swift.max(0, y0), x1 = Swift.max(0, x0)
        return (y1..<Swift.max(y1, Swift.min(inH, y0 + kernelH)), x1..<Swift.max(x1, Swift.min(inW, x0 + kernelW)))
    }
}

/// The integer mean `sum / count` rounded to nearest, ties away from zero (`count > 0`), TFLite's rule:
/// `(sum + count/2) / count` for `sum >= 0`, else `(sum - count/2) / count`, truncating division.
@inline(__always)
func roundedIntegerMean(_ sum: Int64, _ count: Int) -> Int32 {
    let n = Int64(count)
    return Int32(truncatingIfNeeded: sum >= 0 ? (sum + n / 2) / n : (sum - n / 2) / n)
}

/// `maxPool2D` / `averagePool2D`: integer ops, as the runtime (input and output share scale and zero
/// point, so there is nothing to rescale). Max: the largest stored value inside the input, no clamp.
/// Average: `roundedIntegerMean` over the pixels inside the input, then the clamp. An empty window gives `zin`.
final class EmulatedPool2D: EmulatedOp {
    let g: PoolGeometry
    let isMax: Bool

    init(_ geometry: PoolGeometry, isMax: Bool) { g = geometry; self.isMax = isMax }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let input = inputs[0]
        for b in 0..<batch {
            for outY in 0..<g.outH {
                for outX in 0..<g.outW {
                    let (ys, xs) = g.window(outY, outX)
                    let outBase = ((b * g.outH + outY) * g.outW + outX) * g.channels
                    for c in 0..<g.channels {
                        var best = Int32.min
                        var sum: Int64 = 0
                        for inY in ys {
                            for inX in xs {
                                let v = input[((b * g.inH + inY) * g.inW + inX) * g.channels + c]
                                best = Swift.max(best, v)
                                sum += Int64(v)
                            }
                        }
                        let count = ys.count * xs.count
                        output[outBase + c] = count == 0 ? g.zero
                            : isMax ? best : Swift.min(Swift.max(roundedIntegerMean(sum, count), g.lower), g.upper)
                    }
                }
            }
        }
    }
}

/// `globalAveragePool2D` / `globalMaxPool2D`: `[H, W, C] -> [C]`, integer as `EmulatedPool2D`
/// (the average rounds ties away from zero and is clamped; the max is not).
final class EmulatedGlobalPool2D: EmulatedOp {
    let pixels: Int, channels: Int
    let isMax: Bool
    let lower: Int32, upper: Int32

    init(pixels: Int, channels: Int, isMax: Bool, lower: Int32, upper: Int32) {
        self.pixels = pixels; self.channels = channels; self.isMax = isMax; self.lower = lower; self.upper = upper
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let input = inputs[0]
        for b in 0..<batch {
            for c in 0..<channels {
                var best = Int32.min
                var sum: Int64 = 0
                for pixel in 0..<pixels {
                    let v = input[(b * pixels + pixel) * channels + c]
                    best = Swift.max(best, v)
                    sum += Int64(v)
                }
                output[b * channels + c] = isMax ? best : Swift.min(Swift.max(roundedIntegerMean(sum, pixels), lower), upper)
            }
        }
    }
}
