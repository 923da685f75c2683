#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import QConvertKit

/// Signal handling of the commands that write files.
enum Signals {
    /// On SIGINT, SIGTERM or SIGHUP: remove this process's temporary files (`TemporaryFiles`), then
    /// die of the same signal (exit status 128 + n in a shell). SIGXFSZ (a file-size limit) is
    /// ignored, so a write past the limit fails with EFBIG and is reported like a full disk instead of
    /// killing the process with its temporary files in place.
    static func install() {
        TemporaryFiles.prepare()
        for sig in [SIGINT, SIGTERM, SIGHUP] { signal(sig, removeTemporariesAndDie) }
        signal(SIGXFSZ, SIG_IGN)
    }
}

/// `--max-memory`: a usage error unless it parses (`8G`, `512M`, bytes).
func checkMemoryOption(_ text: String?) throws {
    if let text, MemoryBudget.parse(text) == nil {
        throw ValidationError("--max-memory takes a size such as 4G, 512M or a number of bytes, got '\(text)'")
    }
}

/// Sets the process's memory budget from `--max-memory`, or to the default (half of physical memory).
func applyMemoryOption(_ text: String?) {
    MemoryBudget.set(text.flatMap(MemoryBudget.parse) ?? MemoryBudget.bytes)
}

/// Only async-signal-safe calls: `unlink` over a fixed table, `signal`, `raise`. During a commit's
/// renames the signal is only recorded, and delivered again when the renames are done.
private func removeTemporariesAndDie(_ sig: Int32) {
    if TemporaryFiles.deferSignal(sig) { return }  // a commit is renaming: it raises the signal again when done
    TemporaryFiles.removeAllForSignal()
    signal(sig, SIG_DFL)
    raise(sig)
}
