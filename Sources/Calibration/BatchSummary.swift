/// Min, max and mean of one batch in one SIMD pass, then its central moments in a second.
///
/// Sums run in `SIMD8<Float>` lanes over blocks of `blockLength` values and go to `Double` per
/// block, so float error stays that of a 128-term sum while the loops vectorise.
struct BatchSummary {
    var min: Float
    var max: Float
    var sum: Double
    var count: Int

    static let blockLength = 128

    /// NaN or an infinity anywhere makes the sum non-finite.
    var allFinite: Bool { sum.isFinite && min.isFinite && max.isFinite }
    var mean: Double { count > 0 ? sum / Double(count) : 0 }

    init(_ values: UnsafeBufferPointer<Float>) {
        count = values.count
        var lowest = SIMD8<Float>(repeating: .infinity), highest = SIMD8<Float>(repeating: -.infinity)
        var total = 0.0
        let raw = UnsafeRawPointer(values.baseAddress!)
        let vectors = count / 8
        var v = 0
        while v < vectors {
            let end = Swift.min(vectors, v + Self.blockLength / 8)
            var block = SIMD8<Float>()
            while v < end {
                let x = raw.loadUnaligned(fromByteOffset: v &* 32, as: SIMD8<Float>.self)
                // `replacing(with:where:)` is a compare and a blend; pointwiseMin is scalar per lane.
                lowest.replace(with: x, where: x .< lowest)
                highest.replace(with: x, where: x .> highest)
                block += x
                v &+= 1
            }
            total += Double(block.sum())
        }
        var low = lowest.min(), high = highest.max()
        for i in vectors * 8..<count {
            let x = values[i]
            low = Swift.min(low, x); high = Swift.max(high, x); total += Double(x)
        }
        // A NaN never wins a comparison, so min/max skip it; the sum cannot, so `allFinite` reads the sum.
        min = low; max = high; sum = total
    }

    /// `Moments` of the batch: Σ(x - mean)^k for k = 2, 3, 4 about the batch mean.
    func centralMoments(_ values: UnsafeBufferPointer<Float>) -> Moments {
        let mu = mean, center = SIMD8<Float>(repeating: Float(mu))
        var s1 = 0.0, s2 = 0.0, s3 = 0.0, s4 = 0.0
        let raw = UnsafeRawPointer(values.baseAddress!)
        let vectors = count / 8
        var v = 0
        while v < vectors {
            let end = Swift.min(vectors, v + Self.blockLength / 8)
            var b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>(), b4 = SIMD8<Float>()
            while v < end {
                let d = raw.loadUnaligned(fromByteOffset: v &* 32, as: SIMD8<Float>.self) - center
                let d2 = d * d
                b1 += d; b2 += d2; b3 += d2 * d; b4 += d2 * d2
                v &+= 1
            }
            s1 += Double(b1.sum()); s2 += Double(b2.sum()); s3 += Double(b3.sum()); s4 += Double(b4.sum())
        }
        for i in vectors * 8..<count {
            let d = Double(values[i]) - Double(Float(mu))
            s1 += d; s2 += d * d; s3 += d * d * d; s4 += d * d * d * d
        }
        // The sums are about c = Float(mu), not mu: shift them to the exact batch mean
        // (Σ(x-c) = s1, so mean = c + s1/n; moments about mean from those about c).
        let n = Double(count), c = Double(Float(mu))
        let e = s1 / n
        let m2 = s2 - n * e * e
        let m3 = s3 - 3 * e * s2 + 2 * n * e * e * e
        let m4 = s4 - 4 * e * s3 + 6 * e * e * s2 - 3 * n * e * e * e * e
        return Moments(count: n, mean: c + e, m2: Swift.max(m2, 0), m3: m3, m4: Swift.max(m4, 0))
    }
}
