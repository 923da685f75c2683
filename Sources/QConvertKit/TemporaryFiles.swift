#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The temporary files this process has open, so that a SIGINT or SIGTERM handler can remove them
/// before the process dies (`removeAllForSignal` is async-signal-safe: it only reads a fixed table
/// of C strings and calls `unlink`).
public enum TemporaryFiles {
    /// Slots of `strdup`ed paths; nil slots are free. Fixed size, allocated once, never moved.
    private static let capacity = 64
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        p.initialize(repeating: nil, count: capacity)
        return p
    }()
    private static let lock = Lock()

    /// Remembers `path` until `forget(path)`; false when the table is full (the file is then only
    /// removed on the error paths, not by a signal).
    @discardableResult
    public static func remember(_ path: String) -> Bool {
        lock.locked {
            for i in 0..<capacity where slots[i] == nil {
                slots[i] = strdup(path)
                return true
            }
            return false
        }
    }

    /// Stops tracking `path` (after it was renamed into place or removed).
    public static func forget(_ path: String) {
        lock.locked {
            for i in 0..<capacity {
                guard let p = slots[i], String(cString: p) == path else { continue }
                slots[i] = nil
                free(p)
            }
        }
    }

    /// Unlinks every remembered file. Called from a signal handler: no locks, no allocation.
    public static func removeAllForSignal() {
        for i in 0..<capacity {
            if let p = slots[i] { unlink(p) }
        }
    }

    /// Touches the table so that its lazy initialisation never first happens inside a signal handler.
    public static func prepare() { _ = slots; _ = state }

    /// `state[0]`: 1 while a commit renames its files; `state[1]`: a signal that arrived meanwhile;
    /// `state[2]`: 1 once a handler has started removing the files (the process is about to die).
    nonisolated(unsafe) private static let state: UnsafeMutablePointer<Int32> = {
        let p = UnsafeMutablePointer<Int32>.allocate(capacity: 3)
        p.initialize(repeating: 0, count: 3)
        return p
    }()

    /// Called by a signal handler: true when a commit is renaming files, in which case the signal is
    /// kept and delivered again by `endCommit` (a set half renamed would mix old and new files).
    public static func deferSignal(_ sig: Int32) -> Bool {
        guard state[0] != 0 else {
            state[2] = 1
            return false
        }
        state[1] = sig
        return true
    }

    /// Starts the renames of a commit: SIGINT / SIGTERM wait until `endCommit`. False when a handler
    /// on another thread is already removing the files: then nothing may be renamed.
    static func beginCommit() -> Bool {
        state[0] = 1
        return state[2] == 0
    }

    /// Ends the renames; a signal that arrived meanwhile is raised again now (its handler then runs).
    static func endCommit() {
        state[0] = 0
        let pending = state[1]
        state[1] = 0
        if pending != 0 { raise(pending) }
    }
}

/// A pthread mutex (Foundation's NSLock would do, but this file stays free of Foundation).
final class Lock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }
    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex); defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
