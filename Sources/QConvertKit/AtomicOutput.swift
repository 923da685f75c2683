import Foundation
import HDF5

/// Writes an output file through a temporary file in the same folder and renames it into place,
/// so a failure or interruption never leaves a half-written file under the final name.
public enum AtomicOutput {
    public static func write(to path: String, _ body: (String) throws -> Void) throws(QConvertError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .io(path: path, detail: "the folder \(folder) does not exist; create it first")
        }
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)").path
        do {
            try body(temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            if let e = error as? QConvertError { throw e }
            if let e = error as? HDF5Error { throw .hdf5(e) }
            throw .io(path: path, detail: "\(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw .io(path: path, detail: "cannot move the finished output into place: \(reason)")
        }
    }
}
