import QBin

/// Why a `.qbin` model cannot be emulated. Each description names the op or tensor at fault.
public enum EmulationError: Error, CustomStringConvertible {
    /// The model breaks a rule of the format (`QModel.validate()`), or a constant could not be unpacked.
    case qbin(QBinError)
    /// An op the emulator cannot run as stored (e.g. a lookup table on an `i32` input).
    case unsupportedOp(op: String, kind: String)
    /// Attributes, shapes or scales that contradict each other (`docs/qbin-format.md`, section 5).
    case invalidModel(String)

    public var description: String {
        switch self {
        case .qbin(let error): return "cannot load model: \(error)"
        case .unsupportedOp(let op, let kind): return "op '\(op)' (\(kind)) is not supported by the quantized emulator"
        case .invalidModel(let reason): return "model cannot be emulated: \(reason)"
        }
    }
}
