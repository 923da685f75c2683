import Foundation
import QBin

/// Symmetric signed quantization of a weight matrix laid out `[C, rowLength]` (row = output channel):
/// `w ≈ scale[c] * q`, `q` in `-(2^(b-1) - 1) ... 2^(b-1) - 1` (the most negative code is unused, so the
/// grid is symmetric and `-w` quantizes to `-q`).
///
/// The clip `t` (and `scale = t / qmax`) is the largest magnitude, or, below `mseClipBelowBits`, the
/// `t = alpha * max|w|` with the least squared error `sum (w - scale * q)^2` over a grid of alphas: at
/// 2-4 bits clipping a few large weights buys a much finer grid for the rest.
struct WeightQuantizer {
    let bits: Int
    let perChannel: Bool
    let mseClip: Bool

    struct Result {
        var values: [Int32]
        var scales: [Float]
        /// `scale * q`, same layout as the input.
        var dequantized: [Float]
        /// Signal-to-quantization-noise ratio of the weights, dB.
        var sqnrDB: Double
    }

    /// `alpha` grid of the MSE search: 0.20, 0.21, ... 1.00.
    static let alphas: [Float] = (20...100).map { Float($0) / 100 }

    /// `gptq(row)`, where given, rounds that row by GPTQ with its input covariance (`GPTQ`); other rows
    /// round to nearest. The scales are chosen on the unrounded weights either way.
    func quantize(_ w: [Float], channels: Int, gptq: (Int) -> GPTQ? = { _ in nil }) -> Result {
        let rowLength = w.count / max(channels, 1)
        let qmax = Float((1 << (bits - 1)) - 1)
        var values = [Int32](repeating: 0, count: w.count)
        var deq = [Float](repeating: 0, count: w.count)
        let groups = perChannel ? channels : 1
        let groupLength = perChannel ? rowLength : w.count
        var scales = [Float](repeating: 1, count: groups)
        w.withUnsafeBufferPointer { src in
            for g in 0..<groups {
                scales[g] = chooseScale(UnsafeBufferPointer(rebasing: src[(g * groupLength)..<((g + 1) * groupLength)]), qmax: qmax)
            }
            for c in 0..<channels {
                let row = UnsafeBufferPointer(rebasing: src[(c * rowLength)..<((c + 1) * rowLength)])
                let scale = scales[perChannel ? c : 0]
                if let rounding = gptq(c), rounding.size == rowLength {
                    let codes = rounding.round(row, scale: scale, qmax: qmax)
                    for i in 0..<rowLength {
                        values[c * rowLength + i] = codes[i]
                        deq[c * rowLength + i] = Float(codes[i]) * scale
                    }
                    continue
                }
                for i in 0..<rowLength {
                    // NaN (never passed: the builder checks weights finite first) to 0, not a trap.
                    let r = (row[i] / scale).rounded(.toNearestOrAwayFromZero)
                    let q = r.isNaN ? 0 : Swift.min(Swift.max(r, -qmax), qmax)
                    values[c * rowLength + i] = Int32(q)
                    deq[c * rowLength + i] = q * scale
                }
            }
        }
        var signal = 0.0, noise = 0.0
        for i in w.indices {
            signal += Double(w[i]) * Double(w[i])
            let d = Double(w[i]) - Double(deq[i])
            noise += d * d
        }
        let sqnr = noise == 0 ? 200 : (signal == 0 ? 0 : 10 * log10(signal / noise))
        if !perChannel { scales = [scales[0]] }
        return Result(values: values, scales: scales, dequantized: deq, sqnrDB: Swift.min(sqnr, 200))
    }

    private func chooseScale(_ w: UnsafeBufferPointer<Float>, qmax: Float) -> Float {
        var maxAbs: Float = 0
        for v in w { maxAbs = Swift.max(maxAbs, abs(v)) }
        guard maxAbs > 0, maxAbs.isFinite else { return 1 }
        guard mseClip else { return maxAbs / qmax }
        var best = maxAbs / qmax, bestError = Double.infinity
        for alpha in Self.alphas {
            let scale = alpha * maxAbs / qmax
            var error: Float = 0
            for v in w {
                let q = Swift.min(Swift.max((v / scale).rounded(.toNearestOrAwayFromZero), -qmax), qmax)
                let d = v - q * scale
                error += d * d
            }
            if Double(error) < bestError { bestError = Double(error); best = scale }
        }
        return best
    }
}
