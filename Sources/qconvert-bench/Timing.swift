import CKernels
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

    /// One core's FP32 multiply-add throughput in GFLOP/s at the active kernel level: twelve
    /// independent chains of the level's widest vector (more than latency 4 x 2 pipes, so the loop is
    /// throughput-bound; C `qc_fma_probe`, one `vfmadd231ps` ymm each at avx2, zmm at avx512), median
    /// of `reps` samples.
    static func measurePeak(reps: Int) -> Double {
        let iterations = 20_000_000
        var samples: [Double] = []
        var sink: Float = 0
        for _ in 0..<reps {
            var result: Float = 0
            var flops: Int64 = 0
            let t = seconds { result = qc_fma_probe(iterations, Float(reps) * 1e-3, &flops) }
            sink += result
            samples.append(Double(flops) / t / 1e9)
        }
        if sink.isNaN { print("") }  // keeps the loop's result alive
        return median(samples)
    }
}
