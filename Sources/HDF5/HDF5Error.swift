/// Everything that can go wrong reading or writing an HDF5 file. `detail` strings carry HDF5's
/// own error stack (most specific entry first) on one line.
public enum HDF5Error: Error, Equatable, CustomStringConvertible {
    case fileNotFound(path: String)
    /// The file exists but is not HDF5 (an empty file included).
    case notHDF5(path: String)
    /// The file looks like HDF5 but the library cannot open it (truncated, damaged, unreadable).
    case openFailed(path: String, detail: String)
    case objectNotFound(path: String, object: String)
    case readFailed(path: String, object: String, detail: String)
    case writeFailed(path: String, object: String, detail: String)
    case unsupportedType(path: String, object: String, type: String)
    case shapeMismatch(path: String, object: String, expected: [Int], found: [Int])

    /// One line: what failed, in which file and object, and what to do about it.
    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "HDF5 file \(path) does not exist; check the path."
        case .notHDF5(let path):
            return "\(path) is not an HDF5 file (empty or another format); pass a file written by Keras or h5py."
        case .openFailed(let path, let detail):
            return "cannot open HDF5 file \(path): \(detail); the file may be truncated or damaged, copy or export it again."
        case .objectNotFound(let path, let object):
            return "\(object) not found in HDF5 file \(path); list its contents with `h5ls -r \(path)`."
        case .readFailed(let path, let object, let detail):
            return "cannot read \(object) in HDF5 file \(path): \(detail)."
        case .writeFailed(let path, let object, let detail):
            return "cannot write \(object) in HDF5 file \(path): \(detail)."
        case .unsupportedType(let path, let object, let type):
            return "\(object) in HDF5 file \(path) has type \(type), which cannot be read here; store it as numbers (or strings for attributes)."
        case .shapeMismatch(let path, let object, let expected, let found):
            return "\(object) in HDF5 file \(path) has shape \(Self.format(found)), expected \(Self.format(expected))."
        }
    }

    static func format(_ shape: [Int]) -> String {
        shape.isEmpty ? "scalar" : shape.map(String.init).joined(separator: " x ")
    }
}
