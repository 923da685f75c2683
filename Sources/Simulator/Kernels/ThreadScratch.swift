#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread working memory that outlives one kernel call: a few numbered slots of bytes, each
/// grown on demand and kept for the thread's next call, so that a layer run once per pass of a few
/// samples does not allocate (and fault in) its GEMM blocks and converted input every time.
///
/// A slot's bytes are valid until the same thread asks for the same slot again, and hold whatever
/// the last user left there (callers must write what they read). Requests above `cachedBytes` are
/// not kept: a big model's per-call buffers (tens of MB at 224 px) are allocated and freed as before,
/// so the memory held between calls stays small.
enum ThreadScratch {
    static let slots = 4
    /// Largest slot kept between calls.
    static let cachedBytes = 4 << 20

    /// A thread's slots; freed when the thread exits (the pthread key's destructor).
    private final class Buffers {
        var pointers = [UnsafeMutableRawPointer?](repeating: nil, count: ThreadScratch.slots)
        var sizes = [Int](repeating: 0, count: ThreadScratch.slots)
        deinit { for p in pointers { p?.deallocate() } }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in
            #if canImport(Darwin)
            Unmanaged<Buffers>.fromOpaque(pointer).release()
            #else
            if let pointer { Unmanaged<Buffers>.fromOpaque(pointer).release() }
            #endif
        }
        precondition(status == 0, "pthread_key_create failed")
        return key
    }()

    private static var buffers: Buffers {
        if let pointer = pthread_getspecific(key) { return Unmanaged<Buffers>.fromOpaque(pointer).takeUnretainedValue() }
        let buffers = Buffers()
        pthread_setspecific(key, Unmanaged.passRetained(buffers).toOpaque())
        return buffers
    }

    /// Calls `body` with at least `count` bytes, 64-byte aligned: slot `slot` of this thread's cache
    /// when `count <= cachedBytes`, else a fresh allocation freed afterwards.
    static func withBytes<R>(slot: Int, count: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        let count = Swift.max(count, 1)
        guard count <= cachedBytes else {
            let bytes = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
            defer { bytes.deallocate() }
            return body(bytes)
        }
        let buffers = self.buffers
        if buffers.sizes[slot] < count {
            buffers.pointers[slot]?.deallocate()
            let size = Swift.min(cachedBytes, Swift.max(count, 2 * buffers.sizes[slot]))
            buffers.pointers[slot] = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
            buffers.sizes[slot] = size
        }
        return body(buffers.pointers[slot]!)
    }
}
