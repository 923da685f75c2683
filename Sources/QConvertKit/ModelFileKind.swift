import Foundation
import QBin

/// Which reader a model file needs, decided by its first bytes (`docs/qbin-format.md`, section 2.1:
/// a `.qbin` starts with `QBIN`), so a renamed file still goes to the right reader.
public enum ModelFileKind: Sendable, Equatable {
    /// A packed quantized model: the magic matches, or the name ends in `.qbin` (so a damaged file
    /// gets the `.qbin` reader's precise error rather than an HDF5 one).
    case qbin
    /// Anything else; the Keras loader reports what is wrong with it.
    case keras

    /// The kind of the file at `path`; an unreadable file counts as `.keras` unless named `.qbin`,
    /// and the loader that opens it reports why it cannot be read.
    public static func detect(path: String) -> ModelFileKind {
        if hasQBinMagic(path: path) { return .qbin }
        return path.lowercased().hasSuffix(".qbin") ? .qbin : .keras
    }

    /// True when the first four bytes of the file are `QBinFormat.magic`.
    public static func hasQBinMagic(path: String) -> Bool {
        // Only regular files are opened: a FIFO would block here and a device never ends.
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: QBinFormat.magic.count) else { return false }
        return Array(head) == QBinFormat.magic
    }
}
