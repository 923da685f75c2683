import Foundation
import HDF5

/// The outputs of one command, committed together: each is written to a temporary file beside its
/// destination (`.NAME.tmp-PID`), verified, and only then are all renamed into place, in the order
/// they were added (the `.qbin` last), so that a reader never sees a new model beside an old report.
///
/// Temporary files are removed on every error path and, through `TemporaryFiles`, by the CLI's
/// SIGINT / SIGTERM handler. A SIGKILL can leave one behind; the next stage writing to the same folder
/// removes temporaries whose process no longer exists.
public final class OutputStage {
    public private(set) var entries: [(destination: String, temporary: String, last: Bool)] = []

    public init() {}

    deinit { discard() }

    /// Adds `destination` and returns the temporary path to write it to. Checks that its folder exists
    /// and removes stale temporaries of it left by killed processes. `last` entries are renamed after
    /// all others (the `.qbin`, after the reports that describe it).
    public func add(_ destination: String, last: Bool = false) throws(QConvertError) -> String {
        let url = URL(fileURLWithPath: destination)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .io(path: destination, detail: "the folder \(folder) does not exist; create it first")
        }
        Self.removeStaleTemporaries(of: destination)
        let temporary = Self.temporaryPath(of: destination, pid: getpid())
        TemporaryFiles.remember(temporary)
        entries.append((destination, temporary, last))
        return temporary
    }

    /// Renames every temporary file into place, in the order added (`last` entries at the end), holding
    /// a lock on each folder so that two commands committing to the same paths do not interleave.
    public func commit() throws(QConvertError) {
        let folders = Set(entries.map { URL(fileURLWithPath: $0.destination).deletingLastPathComponent().path }).sorted()
        let locks = folders.map { open($0, O_RDONLY | O_CLOEXEC) }
        for fd in locks where fd >= 0 { flock(fd, LOCK_EX) }
        defer { for fd in locks where fd >= 0 { flock(fd, LOCK_UN); close(fd) } }
        // A SIGINT or SIGTERM now would leave new reports beside the old model: it waits for the renames.
        let allowed = TemporaryFiles.beginCommit()
        defer { TemporaryFiles.endCommit() }
        guard allowed else {
            discard()
            throw .io(path: entries.last?.destination ?? "", detail: "interrupted; nothing was changed")
        }
        // Every file must still be there before the first rename: a half-committed set is the one outcome to avoid.
        for (destination, temporary, _) in entries where access(temporary, F_OK) != 0 {
            discard()
            throw .io(path: destination, detail: "its temporary file \(temporary) vanished; nothing was changed")
        }
        for (destination, temporary, _) in entries.filter({ !$0.last }) + entries.filter(\.last) {
            guard rename(temporary, destination) == 0 else {
                let reason = String(cString: strerror(errno))
                discard()
                throw .io(path: destination, detail: "cannot move the finished output into place: \(reason)")
            }
            TemporaryFiles.forget(temporary)
        }
        entries = []
    }

    /// Removes every temporary file not yet renamed.
    public func discard() {
        for (_, temporary, _) in entries {
            unlink(temporary)
            TemporaryFiles.forget(temporary)
        }
        entries = []
    }

    /// Writes `bytes` to `path`, flushed to disk; a short write or a failed close is an error.
    public static func writeBytes(_ bytes: [UInt8], to path: String, destination: String) throws(QConvertError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: destination, detail: "cannot create \(path): \(String(cString: strerror(errno)))") }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw .io(path: destination, detail: "wrote \(done) of \(bytes.count) bytes: \(reason) (is the disk full?)")
            }
            done += n
        }
        let synced = fsync(fd) == 0
        let reason = String(cString: strerror(errno))
        guard close(fd) == 0, synced else { throw .io(path: destination, detail: "cannot finish writing: \(reason)") }
    }

    /// `.NAME.tmp-PID` beside `destination`.
    static func temporaryPath(of destination: String, pid: Int32) -> String {
        let url = URL(fileURLWithPath: destination)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(pid)").path
    }

    /// Removes `.NAME.tmp-PID` files of `destination` whose process has exited (a SIGKILL's leftovers).
    static func removeStaleTemporaries(of destination: String) {
        let url = URL(fileURLWithPath: destination)
        let folder = url.deletingLastPathComponent().path
        let prefix = ".\(url.lastPathComponent).tmp-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid != getpid(), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder + "/" + name) }
        }
    }
}
