import CKernels
import XCTest
@testable import Simulator

/// `qc_parallel_run` (the kernels' spinning worker threads) and `parallelChunks` on top of it.
final class WorkerPoolTests: XCTestCase {
    /// Every index of every call runs exactly once, calls back to back (the workers awake) and after a
    /// pause (the workers parked), for 2 to 9 indices.
    func testEveryIndexRunsOnce() {
        let slots = UnsafeMutablePointer<Int32>.allocate(capacity: 16)
        defer { slots.deallocate() }
        for call in 0..<3000 {
            let n = 2 + call % 8
            slots.initialize(repeating: 0, count: 16)
            let status = qc_parallel_run(Int32(n), { context, i in
                let slots = context!.assumingMemoryBound(to: Int32.self)
                slots[Int(i)] &+= 1
            }, slots)
            XCTAssertEqual(status, 0, "call \(call)")
            XCTAssertEqual(Array(UnsafeBufferPointer(start: slots, count: 16)), (0..<16).map { $0 < n ? 1 : 0 }, "call \(call), n \(n)")
            if call % 1000 == 999 { usleep(5000) }  // longer than the workers spin: they park, and are woken
        }
    }

    /// A call from inside a running call finds the pool busy and returns -1 without running anything.
    func testANestedCallIsRefused() {
        let results = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
        defer { results.deallocate() }
        results.initialize(repeating: 7, count: 4)
        XCTAssertEqual(qc_parallel_run(4, { context, i in
            let results = context!.assumingMemoryBound(to: Int32.self)
            results[Int(i)] = qc_parallel_run(2, { _, _ in fatalError("a refused call ran its function") }, nil)
        }, results), 0)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: results, count: 4)), [-1, -1, -1, -1])
    }

    /// `parallelChunks` covers `0 ..< count` once, in chunks whose starts are multiples of the alignment,
    /// on the pool and (from two threads at once, one of them refused by the pool) through Dispatch.
    func testParallelChunksCoverTheRangeOnce() {
        for (count, threads, alignment) in [(10, 2, 1), (37, 3, 4), (5, 8, 1), (64, 2, 16), (1000, 7, 3)] {
            let hits = UnsafeMutablePointer<Int32>.allocate(capacity: count)
            defer { hits.deallocate() }
            hits.initialize(repeating: 0, count: count)
            let shared = UncheckedSendable(hits)
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                parallelChunks(count, threads: threads, alignment: alignment) { range in
                    XCTAssertEqual(range.lowerBound % alignment, 0)
                    // Each half writes its own parity of values (2 threads may run at once).
                    for i in range where i % 2 == half { shared.value[i] &+= 1 }
                }
            }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: hits, count: count)), [Int32](repeating: 1, count: count),
                           "count \(count), threads \(threads), alignment \(alignment)")
        }
    }
}
