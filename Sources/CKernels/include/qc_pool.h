// Worker threads that stay awake between calls (spin, then park), for batches split over threads.
#ifndef CKERNELS_QC_POOL_H
#define CKERNELS_QC_POOL_H

#include <stddef.h>

/// Runs `fn(ctx, i)` for every `i` in `0 ..< n`: the caller takes indices too, and up to `n - 1` pool
/// threads (created on first use, kept for the process) take the others. Returns when every call has
/// returned. A pool thread spins for about `QC_POOL_SPIN_NS` after its last index before it parks,
/// so calls that follow each other within that time find it awake (as pthreadpool and OpenMP runtimes
/// spin): waking a parked thread costs up to hundreds of microseconds on some virtual machines.
///
/// Returns 0 when done, or -1 without calling `fn` when the pool is busy (another call in flight, or a
/// call from inside `fn`): the caller then splits the work some other way. `n` must be >= 1.
int qc_parallel_run(int n, void (*fn)(void *ctx, int i), void *ctx);

/// Atomically adds 1 to `*counter` and returns its previous value: workers of one `qc_parallel_run`
/// job take units of work (e.g. a batch's passes) in turn from a shared counter, so one that runs
/// late or slowly (its core busy with other work) leaves the rest to the others.
ptrdiff_t qc_take_next(ptrdiff_t *counter);

#endif
