/// `globalAveragePool2D` / `globalMaxPool2D`: `[H, W, C] -> [C]`. The average is `roundedMean` of the
/// `H * W` stored values (nearest, ties away from zero), then the clamp; the max needs no clamp.
final class ReferenceGlobalPool2D: IntegerLayer {
    let pixels: Int, channels: Int
    let isMax: Bool
    let lower: Int32, upper: Int32

    init(pixels: Int, channels: Int, isMax: Bool, lower: Int32, upper: Int32) {
        self.pixels = pixels; self.channels = channels; self.isMax = isMax; self.lower = lower; self.upper = upper
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0]
        for b in 0..<batch {
            for channel in 0..<channels {
                if isMax {
                    var best = Int32.min
                    for pixel in 0..<pixels { best = Swift.max(best, input[(b * pixels + pixel) * channels + channel]) }
                    output[b * channels + channel] = best
                } else {
                    var sum: Int64 = 0
                    for pixel in 0..<pixels { sum += Int64(input[(b * pixels + pixel) * channels + channel]) }
                    output[b * channels + channel] = Swift.min(Swift.max(roundedMean(sum, pixels), lower), upper)
                }
            }
        }
    }
}
