// qc_parallel_run (include/qc_pool.h): one job at a time (`qc_pool_job`), its indices handed out by an
// atomic counter.
//
// A job's parameters and counters are written only while no pool thread holds them: `qc_pool_state`
// counts the pool threads inside a job (`qc_pool_work`) and has a WRITING bit that the caller sets,
// with a compare-and-swap from 0, before it writes. A pool thread enters only by a compare-and-swap
// that finds WRITING clear, so whatever job it then reads is whole; a thread that enters late finds
// the indices taken and leaves. Pool threads wait for a new generation by spinning (with a pause) for
// QC_POOL_SPIN_NS, then on a condition variable; the caller bumps the generation under the mutex and
// broadcasts, so a thread about to park either sees the new generation or is woken.
#include "include/qc_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QC_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define QC_PAUSE() __asm__ __volatile__("yield")
#else
#define QC_PAUSE() ((void)0)
#endif

#define QC_POOL_MAX_THREADS 63
#define QC_POOL_SPIN_NS 2000000LL
#define QC_POOL_WRITING (1 << 30)

static pthread_mutex_t qc_pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qc_pool_wake = PTHREAD_COND_INITIALIZER;
/// Held by the caller for the whole of a job: one job at a time.
static pthread_mutex_t qc_pool_job = PTHREAD_MUTEX_INITIALIZER;
static int qc_pool_threads = 0;                 // guarded by qc_pool_job
static atomic_long qc_pool_generation = 0;      // bumped (under qc_pool_mutex) per job
static atomic_int qc_pool_state = 0;            // pool threads inside a job, | QC_POOL_WRITING
static atomic_int qc_pool_next = 0;             // next index to take
static atomic_int qc_pool_pending = 0;          // indices not yet finished
static int qc_pool_n = 0;                       // written only under QC_POOL_WRITING
static void (*qc_pool_fn)(void *, int) = 0;
static void *qc_pool_ctx = 0;

static int64_t qc_now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/// Takes and runs indices of the current job until none is left.
static void qc_pool_work(void) {
    const int n = qc_pool_n;
    for (;;) {
        int i = atomic_fetch_add_explicit(&qc_pool_next, 1, memory_order_relaxed);
        if (i >= n) return;
        qc_pool_fn(qc_pool_ctx, i);
        atomic_fetch_sub_explicit(&qc_pool_pending, 1, memory_order_release);
    }
}

static void *qc_pool_main(void *unused) {
    (void)unused;
    long seen = atomic_load_explicit(&qc_pool_generation, memory_order_acquire);
    for (;;) {
        int64_t until = qc_now_ns() + QC_POOL_SPIN_NS;
        for (unsigned spins = 0; atomic_load_explicit(&qc_pool_generation, memory_order_acquire) == seen; spins++) {
            QC_PAUSE();
            if ((spins & 255) == 255 && qc_now_ns() > until) {
                pthread_mutex_lock(&qc_pool_mutex);
                while (atomic_load_explicit(&qc_pool_generation, memory_order_acquire) == seen) {
                    pthread_cond_wait(&qc_pool_wake, &qc_pool_mutex);
                }
                pthread_mutex_unlock(&qc_pool_mutex);
                break;
            }
        }
        // Enter: one more thread inside, unless the caller is writing a job.
        int state = atomic_load_explicit(&qc_pool_state, memory_order_relaxed);
        for (;;) {
            if (state & QC_POOL_WRITING) {
                QC_PAUSE();
                state = atomic_load_explicit(&qc_pool_state, memory_order_relaxed);
                continue;
            }
            if (atomic_compare_exchange_weak_explicit(&qc_pool_state, &state, state + 1, memory_order_acquire,
                                                      memory_order_relaxed)) break;
        }
        seen = atomic_load_explicit(&qc_pool_generation, memory_order_acquire);
        qc_pool_work();
        atomic_fetch_sub_explicit(&qc_pool_state, 1, memory_order_release);
    }
    return 0;
}

int qc_parallel_run(int n, void (*fn)(void *ctx, int i), void *ctx) {
    if (n <= 1) {
        if (n == 1) fn(ctx, 0);
        return 0;
    }
    if (pthread_mutex_trylock(&qc_pool_job) != 0) return -1;
    int wanted = n - 1 < QC_POOL_MAX_THREADS ? n - 1 : QC_POOL_MAX_THREADS;
    while (qc_pool_threads < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int status = pthread_create(&thread, &attributes, qc_pool_main, 0);
        pthread_attr_destroy(&attributes);
        if (status != 0) break;
        qc_pool_threads++;
    }
    if (qc_pool_threads == 0) {
        pthread_mutex_unlock(&qc_pool_job);
        return -1;
    }
    // Wait for the threads still inside the last job (they found its indices taken) to leave.
    int idle = 0;
    while (!atomic_compare_exchange_weak_explicit(&qc_pool_state, &idle, QC_POOL_WRITING, memory_order_acquire,
                                                  memory_order_relaxed)) {
        idle = 0;
        QC_PAUSE();
    }
    qc_pool_fn = fn;
    qc_pool_ctx = ctx;
    qc_pool_n = n;
    atomic_store_explicit(&qc_pool_pending, n, memory_order_relaxed);
    atomic_store_explicit(&qc_pool_next, 0, memory_order_relaxed);
    atomic_store_explicit(&qc_pool_state, 0, memory_order_release);
    pthread_mutex_lock(&qc_pool_mutex);
    atomic_fetch_add_explicit(&qc_pool_generation, 1, memory_order_release);
    pthread_cond_broadcast(&qc_pool_wake);
    pthread_mutex_unlock(&qc_pool_mutex);
    qc_pool_work();
    while (atomic_load_explicit(&qc_pool_pending, memory_order_acquire) > 0) QC_PAUSE();
    pthread_mutex_unlock(&qc_pool_job);
    return 0;
}

ptrdiff_t qc_take_next(ptrdiff_t *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }
