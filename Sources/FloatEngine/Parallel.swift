import QCore
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs loop bodies over a fixed number of worker threads.
///
/// Every call splits its iterations into one contiguous chunk per worker instead of dispatching each
/// iteration (`DispatchQueue.concurrentPerform` cost ~20 us per call, see NOTES.md), and runs them on
/// `qc_parallel_run`'s worker threads, which spin between calls instead of parking.
public enum Parallel {
    /// Workers used by every kernel. The CLI and bench set 1 or 2; tests switch it between cases.
    nonisolated(unsafe) public static var threadCount: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Workers a kernel may split its work over from the calling thread: `threadCount`, or 1 inside
    /// `serially` (a thread that already is one of several workers, e.g. one share of a batch split by
    /// samples, must not split again).
    public static var workers: Int { isSerial ? 1 : max(threadCount, 1) }

    /// A thread-specific flag, non-nil inside `serially` (a pthread key: a few nanoseconds per read,
    /// where Foundation's thread dictionary cost ~10 % of a batch-1 run).
    private static let serialKey: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    private static var isSerial: Bool { pthread_getspecific(serialKey) != nil }

    /// Runs `body` with every `Parallel` split on this thread running inline (`workers` is 1).
    public static func serially<R>(_ body: () -> R) -> R {
        let previous = pthread_getspecific(serialKey)
        pthread_setspecific(serialKey, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(serialKey, previous) }
        return body()
    }

    /// Calls `body(i)` for every `i` in `0..<count`, splitting the range into one contiguous chunk
    /// per worker. Runs inline when there is one worker or one iteration. `body` must be safe to call
    /// concurrently for different `i`.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let workers = min(Parallel.workers, count)
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        WorkerThreads.run(workers) { worker in
            let start = count &* worker / workers, end = count &* (worker &+ 1) / workers
            for i in start..<end { body(i) }
        }
    }

    /// Splits `count` items into `chunks` contiguous ranges whose starts are multiples of `alignment`
    /// (the last range takes the remainder); chunk `index` of them. Used to give each worker whole
    /// micro-tiles of rows.
    static func alignedRange(_ index: Int, chunks: Int, count: Int, alignment: Int) -> Range<Int> {
        let units = (count &+ alignment &- 1) / alignment
        let start = min(count, units &* index / chunks &* alignment)
        let end = min(count, units &* (index &+ 1) / chunks &* alignment)
        return start..<end
    }
}

/// Carries a non-Sendable value into `concurrentPerform`; callers guarantee the accesses are disjoint.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
