import CKernels
import Dispatch

/// One measurement of the simulator's int8 GEMM.
public struct IntegerGEMMBenchResult: Sendable, CustomStringConvertible {
    public var m: Int, n: Int, k: Int, weightBits: Int, threads: Int
    /// `s16` (`vpmaddwd` on int16 pairs, exact for 8-bit weights) or `u8` (`vpmaddubsw` for <= 7-bit
    /// weights; `vpdpbusd`, exact for any int8 weights, at avx512vnni).
    public var path: String
    /// The kernel level that ran (`qc_isa_name`: scalar, avx2, ...).
    public var isa: String
    /// Median seconds of one `m x n x k` product over the repetitions.
    public var seconds: Double
    /// `2 * m * n * k / seconds / 1e9`.
    public var gops: Double { 2 * Double(m) * Double(n) * Double(k) / seconds / 1e9 }

    public var description: String {
        "int8 GEMM \(m)x\(n)x\(k) w\(weightBits) \(path) \(isa) \(threads) thread(s): \(String(format2(gops))) GOP/s"
    }
}

private func format2(_ x: Double) -> String { String(Double(Int(x * 10)) / 10) }

/// Measures the int8 GEMM kernel (`C[M x N] = A[M x K] * W[N x K]^T` in int32; A already converted to
/// the path's element type, so im2col and requantization are excluded) with weights of `weightBits`
/// (2 ... 8) on `threads` threads (rows split in one chunk per thread, as the layers do). Random
/// inputs; returns the median over `repetitions` timed runs after one warm-up.
public func IntegerGEMMBench(m: Int, n: Int, k: Int, weightBits: Int, threads: Int, repetitions: Int = 7) -> IntegerGEMMBenchResult {
    precondition(m >= 1 && n >= 1 && k >= 1 && (2...8).contains(weightBits) && threads >= 1, "IntegerGEMMBench: bad arguments")
    // The path a layer with these weights takes (8-bit weights: s16, or u8 where the level's quads are exact).
    let path = GEMMPath.choose(input: .unsigned(8)!, weights: .signed(weightBits)!)!
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int32 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int32(truncatingIfNeeded: state >> 33)
    }
    let limit = Int32(1) << (weightBits - 1)
    let weights = (0..<n * k).map { _ in (next() & (2 * limit - 1)) - limit }
    let packed = weights.withUnsafeBufferPointer { PackedGEMMWeights(weights: $0, n: n, k: k, rowStride: k, path: path) }
    let lda = packed.paddedK, ldc = packed.panels * 16
    let rowsPadded = (m + 3) & ~3
    let a = UnsafeMutableRawPointer.allocate(byteCount: rowsPadded * lda * path.elementSize, alignment: 64)
    let c = UnsafeMutablePointer<Int32>.allocate(capacity: rowsPadded * ldc)
    defer { a.deallocate(); c.deallocate() }
    for i in 0..<rowsPadded * lda {
        switch path {
        case .s16: a.storeBytes(of: Int16(truncatingIfNeeded: next() % 256), toByteOffset: i * 2, as: Int16.self)
        case .u8: a.storeBytes(of: UInt8(truncatingIfNeeded: next()), toByteOffset: i, as: UInt8.self)
        }
    }
    let aShared = UncheckedSendable(UnsafeRawPointer(a)), cShared = UncheckedSendable(c)
    func once() {
        parallelChunks(rowsPadded, threads: threads, alignment: 4) { range in
            // Blocks of rows, as the layers run them.
            var first = range.lowerBound
            while first < range.upperBound {
                let count = Swift.min(GEMMScratch.blockRows, range.upperBound - first)
                packed.multiply(a: aShared.value + first * lda * path.elementSize, lda: lda, rows: count,
                                c: cShared.value + first * ldc, ldc: ldc)
                first += count
            }
        }
    }
    once()
    var times: [Double] = []
    for _ in 0..<Swift.max(1, repetitions) {
        let start = DispatchTime.now().uptimeNanoseconds
        once()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    times.sort()
    return IntegerGEMMBenchResult(m: m, n: n, k: k, weightBits: weightBits, threads: threads,
                                  path: path == .s16 ? "s16" : "u8", isa: String(cString: qc_isa_name(qc_isa_active())),
                                  seconds: times[times.count / 2])
}

/// The active level's int8 multiply-accumulate peak of one thread in GOP/s (`qc_int8_probe`: twelve
/// independent chains of the level's idiom, throughput-bound), median of `repetitions` samples. With
/// `s16`, the peak of the s16 path's `vpmaddwd` (`qc_int8_probe_s16`), the bound of 8-bit weights where
/// the densest instruction is not exact for them (avx2, avx512); nil at levels without one.
public func IntegerPeakProbe(repetitions: Int = 7, s16: Bool = false) -> Double? {
    let iterations = 20_000_000
    var samples: [Double] = []
    var sink: Int64 = 0
    for r in 0..<Swift.max(1, repetitions) {
        var ops: Int64 = 0
        let start = DispatchTime.now().uptimeNanoseconds
        sink &+= s16 ? qc_int8_probe_s16(iterations, Int64(r + 7), &ops) : qc_int8_probe(iterations, Int64(r + 7), &ops)
        if ops == 0 { return nil }
        samples.append(Double(ops) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) / 1e9)
    }
    if sink == 42 { print("") }  // keeps the probe's result alive
    samples.sort()
    return samples[samples.count / 2]
}
