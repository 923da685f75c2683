import FloatEngine
import XCTest
@testable import Calibration

/// `StreamingHistogram.add` splits large batches over `Parallel.threadCount` workers; the statistics
/// must not depend on the thread count, bit for bit.
final class ParallelStatisticsTests: XCTestCase {
    /// Two batches large enough to be split into several chunks (with an uneven remainder), post-ReLU
    /// shaped (60 % exact zeros) with a negative tail; the second batch doubles the histogram range.
    func testOneTwoAndThreeThreadsGiveIdenticalStatistics() {
        let channels = 8
        let rows = (5 * StreamingHistogram.minimumChunk + 13) / channels + 1
        var generator = SampleGenerator(seed: 11)
        let first = (0..<rows * channels).map { i -> Float in
            i % 5 < 3 ? 0 : generator.gaussian(mean: 0.5, sigma: 1)
        }
        let second = first.map { $0 * 3 }
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        func collect(threads: Int) -> TensorStatistics {
            Parallel.threadCount = threads
            let stats = TensorStatistics(channels: channels)
            first.withUnsafeBufferPointer { stats.add($0) }
            second.withUnsafeBufferPointer { stats.add($0) }
            return stats
        }
        let one = collect(threads: 1)
        let reference = naiveCounts(first + second, histogram: one.histogram)
        XCTAssertEqual(one.histogram.zeros, reference.zeros, "zeros, 1 thread vs direct count")
        XCTAssertNil(firstDifference(binCounts(one.histogram), reference.bins), "first differing bin, 1 thread vs direct count")
        for threads in [2, 3] {
            let many = collect(threads: threads)
            XCTAssertEqual(many.histogram.zeros, reference.zeros, "zeros, \(threads) threads")
            XCTAssertNil(firstDifference(binCounts(many.histogram), reference.bins), "first differing bin, \(threads) threads")
            XCTAssertEqual(many.count, one.count)
            XCTAssertEqual(many.min, one.min)
            XCTAssertEqual(many.max, one.max)
            XCTAssertEqual(many.mean, one.mean, "\(threads) threads: moments must be bit-identical")
            XCTAssertEqual(many.variance, one.variance)
            XCTAssertEqual(many.kurtosis, one.kurtosis)
            XCTAssertEqual(many.channelMeans, one.channelMeans)
            XCTAssertTrue(many.segments == one.segments, "histogram segments differ at \(threads) threads")
            for method in ClipMethod.autoCandidates {
                let a = many.clipRange(method: method, bits: 4), b = one.clipRange(method: method, bits: 4)
                XCTAssertEqual(a.low, b.low, method.name)
                XCTAssertEqual(a.high, b.high, method.name)
            }
        }
    }

    /// The first index where `a` and `b` differ (nil when equal), so a failure prints one bin, not 8192.
    private func firstDifference(_ a: [Int], _ b: [Int]) -> Int? {
        a.count != b.count ? Swift.min(a.count, b.count) : a.indices.first { a[$0] != b[$0] }
    }

    /// All bins, negative half then non-negative half.
    private func binCounts(_ histogram: StreamingHistogram) -> [Int] {
        (0..<histogram.binsPerSide).map(histogram.negative) + (0..<histogram.binsPerSide).map(histogram.positive)
    }

    /// Counts every value directly at the histogram's final range (the range only doubles and
    /// `binsPerSide` is a power of two, so bins at the final range are unions of earlier bins).
    private func naiveCounts(_ values: [Float], histogram: StreamingHistogram) -> (bins: [Int], zeros: Int) {
        let side = histogram.binsPerSide
        var bins = [Int](repeating: 0, count: 2 * side), zeros = 0
        for v in values {
            if v == 0 { zeros += 1; continue }
            let bin = Swift.min(Int(Double(v.magnitude) / Double(histogram.range) * Double(side)), side - 1)
            bins[(v < 0 ? 0 : side) + bin] += 1
        }
        return (bins, zeros)
    }
}
