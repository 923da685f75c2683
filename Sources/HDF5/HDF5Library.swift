import CHDF5
import Foundation

/// Process-wide state of libhdf5: the lock every call takes, one-time setup and error-stack capture.
///
/// Debian's libhdf5 is built without `--enable-threadsafe`: two threads inside the library at the
/// same time corrupt its global state. Every entry point of this module therefore holds `lock` for
/// the whole HDF5 call sequence (recursive, because a `deinit` closing a handle may run while a
/// public method already holds it). Threads may use different files concurrently, but their
/// HDF5 calls are serialised.
enum H5Library {
    static let lock = NSRecursiveLock()

    /// Runs once: initialises the library and stops it printing error stacks to stderr. No exit
    /// handler: HDF5's own one retries closing a file whose writes failed (a full disk) and crashed
    /// the process after the error was reported; every file is closed by its owner's `deinit`.
    private static let ready: Bool = {
        _ = H5dont_atexit()
        _ = H5open()
        _ = qc_h5_silence_errors()
        return true
    }()

    /// Takes the global lock (and makes sure the library is set up); pair with `leave()` in a `defer`.
    @inline(__always)
    static func enter() {
        lock.lock()
        _ = ready
    }

    @inline(__always)
    static func leave() { lock.unlock() }

    /// The current HDF5 error stack as one line; call right after the failing call.
    static func errorText(or fallback: String = "HDF5 reported no details") -> String {
        var buffer = [CChar](repeating: 0, count: 2048)
        let length = qc_h5_error_text(&buffer, buffer.count)
        guard length > 0 else { return fallback }
        let text = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Some entries embed ctime() output with its newline: keep messages on one line.
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// Closes temporary handles at scope exit: `defer { close(space, H5Sclose) }`.
@inline(__always)
func close(_ id: hid_t, _ closer: (hid_t) -> herr_t) {
    if id > 0 { _ = closer(id) }   // 0 is H5P_DEFAULT, never a handle to close
}
