import Foundation

/// Wall-clock timing helpers shared by the bench subcommands.
enum Timing {
    /// Seconds taken by `body`.
    static func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Calls per sample so that one sample lasts at least `minimum` seconds, from one timed call.
    static func callsPerSample(minimum: Double, _ body: () -> Void) -> Int {
        let once = max(seconds(body), 1e-7)
        return max(1, Int((minimum / once).rounded(.up)))
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// One core's FP32 FMA throughput in GFLOP/s: twelve independent `SIMD8<Float>` FMA chains (more
    /// than latency 4 x 2 pipes, so the loop is throughput-bound), median of `reps` samples.
    static func measurePeak(reps: Int) -> Double {
        let iterations = 20_000_000
        var samples: [Double] = []
        var sink: Float = 0
        for _ in 0..<reps {
            var result: Float = 0
            let t = seconds { result = fmaChains(iterations: iterations, seed: Float(reps) * 1e-3) }
            sink += result
            samples.append(Double(iterations) * 12 * 16 / t / 1e9)
        }
        if sink.isNaN { print("") }  // keeps the loop's result alive
        return median(samples)
    }

    @inline(never)
    static func fmaChains(iterations: Int, seed: Float) -> Float {
        let m = SIMD8<Float>(repeating: 0.999_999), add = SIMD8<Float>(repeating: seed)
        var a0 = SIMD8<Float>(repeating: 1), a1 = a0 + 1, a2 = a0 + 2, a3 = a0 + 3, a4 = a0 + 4, a5 = a0 + 5
        var a6 = a0 + 6, a7 = a0 + 7, a8 = a0 + 8, a9 = a0 + 9, a10 = a0 + 10, a11 = a0 + 11
        for _ in 0..<iterations {
            a0 = add.addingProduct(a0, m); a1 = add.addingProduct(a1, m); a2 = add.addingProduct(a2, m)
            a3 = add.addingProduct(a3, m); a4 = add.addingProduct(a4, m); a5 = add.addingProduct(a5, m)
            a6 = add.addingProduct(a6, m); a7 = add.addingProduct(a7, m); a8 = add.addingProduct(a8, m)
            a9 = add.addingProduct(a9, m); a10 = add.addingProduct(a10, m); a11 = add.addingProduct(a11, m)
        }
        let total = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
        return total.sum()
    }
}
