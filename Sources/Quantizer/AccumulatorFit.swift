import Foundation
import QBin

/// Keeps a weighted layer's static int32 accumulator bound (`docs/qbin-format.md`, section 5.3)
///
///     bound[c] = |bias[c]| + K * max|q_x - z_x| * max_j |q_w[c, j]|  <=  2^31 - 1
///
/// by raising the weight scale `s_w[c]` of each channel that exceeds it (TFLite's remedy for a bias
/// too large for `s_x * s_w`). Both terms scale as `1 / s_w[c]`, so multiplying `s_w[c]` by
/// `bound[c] / (2^31 - 1)` (a hair more, for rounding) brings the channel under the limit; the
/// weights of that channel are then rounded to nearest on the coarser grid (GPTQ's rounding of that
/// row is dropped). Such channels are those whose bias is huge next to `s_x * s_w[c]`: tiny weights
/// behind a small input scale, where the coarser weight grid costs little next to the bias.
struct AccumulatorFit {
    /// `K`, products per output value.
    let products: Int
    /// `max|q_x - z_x|` over the input type's range.
    let maxInput: Int64

    /// Rounds of widening before giving up (each multiplies the scale by at least `1 + margin`).
    static let maxAttempts = 64
    /// Relative margin added to each widening factor, so that rounding the weights and the bias on the
    /// new grid does not land them just over the limit again.
    static let margin = 1.0 / 1024

    func bound(weights: [Int32], bias: [Int32], channels: Int) -> Int64 {
        (0..<channels).map { channelBound($0, weights: weights, bias: bias, channels: channels) }.max() ?? 0
    }

    /// The channels whose bound exceeds int32, with their bounds. `bias` is the rounded bias in units of
    /// `s_x * s_w[c]` before any clamp to int32, so that a bias far past int32 gives the factor it needs.
    func channelsOver(weights: [Int32], bias: [Double], channels: Int) -> [(channel: Int, bound: Double)] {
        let rowLength = weights.count / Swift.max(channels, 1)
        return (0..<channels).compactMap { c in
            var maxW: Int64 = 0
            for j in 0..<rowLength { maxW = Swift.max(maxW, abs(Int64(weights[c * rowLength + j]))) }
            let b = abs(bias[c]) + Double(products) * Double(maxInput) * Double(maxW)
            return b > Double(QAccumulatorBound.limit) ? (c, b) : nil
        }
    }

    private func channelBound(_ c: Int, weights: [Int32], bias: [Int32], channels: Int) -> Int64 {
        let rowLength = weights.count / Swift.max(channels, 1)
        var maxW: Int64 = 0
        for j in 0..<rowLength { maxW = Swift.max(maxW, abs(Int64(weights[c * rowLength + j]))) }
        let b = c < bias.count ? abs(Int64(bias[c])) : 0
        let (kx, o1) = Int64(products).multipliedReportingOverflow(by: maxInput)
        let (kxw, o2) = kx.multipliedReportingOverflow(by: maxW)
        let (sum, o3) = kxw.addingReportingOverflow(b)
        return o1 || o2 || o3 ? Int64.max : sum
    }

    /// `result` with the scales of the `over` channels (or the one per-tensor scale) multiplied by
    /// `bound / limit * (1 + margin)`, and those rows rounded again to nearest.
    func widened(_ result: WeightQuantizer.Result, rows w: [Float], channels: Int, over: [(channel: Int, bound: Double)],
                 perChannel: Bool, bits: Int) -> WeightQuantizer.Result {
        var r = result
        let qmax = Float((1 << (bits - 1)) - 1)
        let rowLength = w.count / Swift.max(channels, 1)
        func factor(_ bound: Double) -> Float {
            Float(Swift.max(bound / Double(QAccumulatorBound.limit), 1) * (1 + Self.margin))
        }
        var rowsToRound: [Int]
        if perChannel {
            for (c, bound) in over { r.scales[c] *= factor(bound) }
            rowsToRound = over.map(\.channel)
        } else {
            r.scales[0] *= factor(over.map(\.bound).max() ?? 0)
            rowsToRound = Array(0..<channels)
        }
        for c in rowsToRound {
            let scale = r.scales[perChannel ? c : 0]
            for j in (c * rowLength)..<((c + 1) * rowLength) {
                let q = Swift.min(Swift.max((w[j] / scale).rounded(.toNearestOrAwayFromZero), -qmax), qmax)
                r.values[j] = Int32(q)
                r.dequantized[j] = q * scale
            }
        }
        var signal = 0.0, noise = 0.0
        for i in w.indices {
            signal += Double(w[i]) * Double(w[i])
            let d = Double(w[i]) - Double(r.dequantized[i])
            noise += d * d
        }
        r.sqnrDB = Swift.min(noise == 0 ? 200 : (signal == 0 ? 0 : 10 * log10(signal / noise)), 200)
        return r
    }
}
