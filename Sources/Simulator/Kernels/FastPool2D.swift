/// `maxPool2D` and `averagePool2D` with the same windows and math as `ReferenceMaxPool2D` /
/// `ReferenceAveragePool2D` (padding excluded, an empty window gives `zin`; the average is `roundedMean`
/// of an int64 sum, then the clamp), channels innermost so every window pixel is one contiguous
/// vectorisable pass over the channels, and output rows (batch x outH) split over `threads`.
final class FastPool2D: IntegerLayer {
    let p: PoolParams
    let isMax: Bool

    init(_ params: PoolParams, isMax: Bool) { p = params; self.isMax = isMax }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        guard output.count > 0 else { return }
        let input = inputs[0].baseAddress!, out = output.baseAddress!
        let p = self.p, channels = p.channels, isMax = self.isMax
        parallelChunks(batch * p.outH, threads: threads) { rows in
            let sums = UnsafeMutablePointer<Int64>.allocate(capacity: channels)
            defer { sums.deallocate() }
            for row in rows {
                let b = row / p.outH, outY = row % p.outH
                for outX in 0..<p.outW {
                    let (ys, xs) = p.window(outY, outX)
                    let dst = out + ((b &* p.outH &+ outY) &* p.outW &+ outX) &* channels
                    if ys.isEmpty || xs.isEmpty {
                        // Max: zin. Average: the reference's mean of an empty window is zin, then the clamp.
                        let value = isMax ? p.zero : Swift.min(Swift.max(p.zero, p.lower), p.upper)
                        for c in 0..<channels { dst[c] = value }
                        continue
                    }
                    if isMax {
                        for c in 0..<channels { dst[c] = Int32.min }
                        for inY in ys {
                            for inX in xs {
                                let src = input + ((b &* p.inH &+ inY) &* p.inW &+ inX) &* channels
                                for c in 0..<channels { dst[c] = Swift.max(dst[c], src[c]) }
                            }
                        }
                    } else {
                        for c in 0..<channels { sums[c] = 0 }
                        for inY in ys {
                            for inX in xs {
                                let src = input + ((b &* p.inH &+ inY) &* p.inW &+ inX) &* channels
                                for c in 0..<channels { sums[c] &+= Int64(src[c]) }
                            }
                        }
                        let count = ys.count * xs.count
                        let half = Int64(count / 2), n = Double(count)
                        for c in 0..<channels {
                            // roundedMean without an int64 division: the numerator is below 2^53 in magnitude
                            // (count * 2^31 at most), so the Double quotient truncates to the same integer
                            // (a non-integer quotient lies at least 1/count from the nearest integer, more
                            // than its rounding error).
                            let sum = sums[c], numerator = sum >= 0 ? sum &+ half : sum &- half
                            let mean = Int32(truncatingIfNeeded: Int64((Double(numerator) / n).rounded(.towardZero)))
                            dst[c] = Swift.min(Swift.max(mean, p.lower), p.upper)
                        }
                    }
                }
            }
        }
    }
}

/// `globalAveragePool2D` / `globalMaxPool2D` as `ReferenceGlobalPool2D` computes them (`[H, W, C] -> [C]`;
/// the average is `roundedMean` of an int64 sum, then the clamp), summing one contiguous pixel of
/// channels at a time, samples split over `threads`.
final class FastGlobalPool2D: IntegerLayer {
    let reference: ReferenceGlobalPool2D

    init(_ reference: ReferenceGlobalPool2D) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        guard output.count > 0 else { return }
        let r = reference, pixels = r.pixels, channels = r.channels
        let input = inputs[0].baseAddress!, out = output.baseAddress!
        parallelChunks(batch, threads: threads) { samples in
            let sums = UnsafeMutablePointer<Int64>.allocate(capacity: channels)
            defer { sums.deallocate() }
            for b in samples {
                let dst = out + b &* channels
                if r.isMax {
                    for c in 0..<channels { dst[c] = Int32.min }
                    for pixel in 0..<pixels {
                        let src = input + (b &* pixels &+ pixel) &* channels
                        for c in 0..<channels { dst[c] = Swift.max(dst[c], src[c]) }
                    }
                } else {
                    for c in 0..<channels { sums[c] = 0 }
                    for pixel in 0..<pixels {
                        let src = input + (b &* pixels &+ pixel) &* channels
                        for c in 0..<channels { sums[c] &+= Int64(src[c]) }
                    }
                    for c in 0..<channels { dst[c] = Swift.min(Swift.max(roundedMean(sums[c], pixels), r.lower), r.upper) }
                }
            }
        }
    }
}
