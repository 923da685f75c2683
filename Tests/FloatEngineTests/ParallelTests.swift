@testable import FloatEngine
import XCTest

final class ParallelTests: XCTestCase {
    func testForEachVisitsEveryIndexOnce() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for threads in [1, 2, 3] {
            Parallel.threadCount = threads
            for count in [0, 1, 2, 3, 17, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0, count: max(count, 1))
                defer { hits.deallocate() }
                Parallel.forEach(count) { hits[$0] += 1 }
                XCTAssertTrue((0..<count).allSatisfy { hits[$0] == 1 }, "threads \(threads), count \(count)")
            }
        }
    }

    func testAlignedRangesPartitionWholeTiles() {
        for count in [0, 1, 5, 6, 7, 100, 601] {
            for chunks in [1, 2, 3, 7] {
                var next = 0
                for index in 0..<chunks {
                    let range = Parallel.alignedRange(index, chunks: chunks, count: count, alignment: 6)
                    XCTAssertEqual(range.lowerBound, next, "count \(count), chunks \(chunks), chunk \(index)")
                    XCTAssertTrue(range.lowerBound % 6 == 0 || range.isEmpty)
                    next = range.upperBound
                }
                XCTAssertEqual(next, count, "count \(count), chunks \(chunks)")
            }
        }
    }
}
