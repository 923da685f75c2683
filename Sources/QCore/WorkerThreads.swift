import CKernels
import Dispatch

/// Runs a job's indices in parallel on the kernels' worker threads, which stay awake between calls
/// (`qc_parallel_run`, CKernels/pool.c), or through Dispatch when those are busy (a call from inside
/// another job's index, or from another thread at the same time). Shared by the simulator's
/// `parallelChunks` and the float engine's `Parallel.forEach`.
public enum WorkerThreads {
    /// Calls `body(i)` for every `i` in `0..<count`, concurrently; returns when all have returned.
    /// `body` must be safe to call concurrently for different `i`.
    public static func run(_ count: Int, _ body: (Int) -> Void) {
        guard count > 1 else {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var job = Job(body: body)
            let ran = withUnsafeMutablePointer(to: &job) { job in
                qc_parallel_run(Int32(count), { context, i in
                    context!.assumingMemoryBound(to: Job.self).pointee.body(Int(i))
                }, job)
            }
            guard ran != 0 else { return }
            let shared = Job.Shared(job: job)
            DispatchQueue.concurrentPerform(iterations: count) { i in shared.job.body(i) }
        }
    }

    /// The body, behind a pointer for the C callback.
    private struct Job {
        let body: (Int) -> Void

        /// Handed to Dispatch's workers, which only call the body (for disjoint indices).
        struct Shared: @unchecked Sendable { let job: Job }
    }
}
