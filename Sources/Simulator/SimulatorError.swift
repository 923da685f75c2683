import QBin

/// Why a `.qbin` model cannot be simulated. Each description names the op or tensor at fault.
public enum SimulatorError: Error, CustomStringConvertible {
    /// The file could not be read or is not a valid `.qbin` file.
    case qbin(QBinError)
    /// An op this simulator cannot run as stored (e.g. an `i32` activation feeding a lookup table).
    case unsupportedOp(op: String, kind: String)
    /// Attributes or shapes that contradict each other (`docs/qbin-format.md`, section 5).
    case invalidModel(String)

    public var description: String {
        switch self {
        case .qbin(let error): return "cannot load model: \(error)"
        case .unsupportedOp(let op, let kind): return "op '\(op)' (\(kind)) is not supported by the integer simulator"
        case .invalidModel(let reason): return "model cannot be simulated: \(reason)"
        }
    }
}
