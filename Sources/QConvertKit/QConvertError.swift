import HDF5
import KerasImport
import QBin
import QCore
import Quantizer
import Simulator

/// Everything that can go wrong in the pipeline, with the context a user needs to act on it.
/// The CLI prints `description` (one line) and maps it to exit code 64 when `isUsageError`, else 2.
public enum QConvertError: Error, CustomStringConvertible {
    case hdf5(HDF5Error)
    case keras(KerasImportError)
    case graph(path: String, GraphError)
    /// `hint` says what to do: pass an option naming the dataset, or write the file with the expected names.
    case missingDataset(path: String, dataset: String, available: [String], hint: String = "pass --dataset NAME")
    case inputShapeMismatch(path: String, dataset: String, expected: [Int], found: [Int])
    case unsupportedModelFile(path: String)
    case io(path: String, detail: String)
    /// A `.qbin` file that `QBinReader` rejected (bad magic, checksum, truncation, ...).
    case qbin(path: String, QBinError)
    /// A valid `.qbin` file the integer simulator cannot run.
    case simulator(path: String, SimulatorError)
    /// The float graph cannot be expressed as an integer model, or a quantization option does not fit it.
    case quantizer(QuantizerError)
    /// A fidelity gate that the given data cannot measure (no labels, no evaluation samples): a usage error.
    case unmeasurableGate(gate: String, reason: String, remedy: String)
    /// An error another qconvert process (the CLI's isolated model reader) already formatted: shown as is.
    case reported(String)

    /// An option that cannot work with the given files (exit 64), rather than a bad file (exit 2).
    public var isUsageError: Bool {
        if case .unmeasurableGate = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .hdf5(let e): return e.description
        case .keras(let e): return e.description
        case .graph(let path, let e): return "\(path): \(e.description)"
        case .missingDataset(let path, let dataset, let available, let hint):
            let list = available.isEmpty ? "none" : available.joined(separator: ", ")
            return "\(path): no dataset '\(dataset)' (datasets at the root: \(list)); \(hint)"
        case .inputShapeMismatch(let path, let dataset, let expected, let found):
            return "\(path): dataset '\(dataset)' has shape \(Self.shape(found)), the model expects N x \(Self.shape(expected, separator: " x ")); write samples as N x \(Self.shape(expected, separator: " x "))"
        case .unsupportedModelFile(let path):
            return "\(path): not a model qconvert can read (expected a Keras .h5 or a .qbin file)"
        case .io(let path, let detail):
            return "\(path): \(detail)"
        case .qbin(let path, let e):
            switch e {
            case .fileNotReadable: return e.description  // already names the file
            case .checksumMismatch: return "\(path): checksum error: \(e.description)"
            default: return "\(path): \(e.description)"
            }
        case .simulator(let path, let e):
            return "\(path): \(e.description)"
        case .quantizer(let e):
            return e.description
        case .unmeasurableGate(let gate, let reason, let remedy):
            return "--\(gate) cannot be measured: \(reason); \(remedy)"
        case .reported(let message):
            return message
        }
    }

    static func shape(_ s: [Int], separator: String = " x ") -> String {
        s.map(String.init).joined(separator: separator)
    }
}
