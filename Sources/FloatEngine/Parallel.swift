import Dispatch
import Foundation

/// Runs loop bodies over a fixed number of worker threads.
///
/// `DispatchQueue.concurrentPerform` costs ~20 us per call (see NOTES.md), so every call splits its
/// iterations into one contiguous chunk per worker instead of dispatching each iteration.
public enum Parallel {
    /// Workers used by every kernel. The CLI and bench set 1 or 2; tests switch it between cases.
    nonisolated(unsafe) public static var threadCount: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Calls `body(i)` for every `i` in `0..<count`, splitting the range into one contiguous chunk
    /// per worker. Runs inline when there is one worker or one iteration. `body` must be safe to call
    /// concurrently for different `i`.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        let workers = min(max(threadCount, 1), count)
        if workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UnsafeSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = count &* worker / workers, end = count &* (worker &+ 1) / workers
                for i in start..<end { shared.value(i) }
            }
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
