import QBin
import QCore

/// Why a float graph could not be quantized.
public enum QuantizerError: Error, Equatable, CustomStringConvertible {
    /// A layer the integer format cannot express, with what would work instead.
    case unsupportedLayer(name: String, op: String, reason: String)
    /// A layer name in `--layer-bits` that the model does not have.
    case unknownLayer(name: String, available: [String])
    case invalidBits(context: String, bits: Int)
    /// A rescale factor the fixed-point multiplier cannot hold (shift above 30).
    case multiplierOutOfRange(layer: String, value: Double)
    case missingStatistics(layer: String)
    case graph(GraphError)
    case format(QBinError)
    /// A weight or bias that is NaN or infinite after folding (`index`: the first bad element, row-major).
    case nonFiniteValue(layer: String, what: String, index: Int, value: Double)

    public var description: String {
        switch self {
        case .unsupportedLayer(let name, let op, let reason):
            return "layer '\(name)' (\(op)) cannot be quantized: \(reason)"
        case .unknownLayer(let name, let available):
            return "--layer-bits names '\(name)', which is not a layer of the model; weighted layers: \(available.joined(separator: ", "))"
        case .invalidBits(let context, let bits):
            return "\(context): \(bits) bits is outside 2...8"
        case .multiplierOutOfRange(let layer, let value):
            return "layer '\(layer)': rescale factor \(value) is too large for a fixed-point multiplier (needs < 2^30); the clip ranges are degenerate"
        case .missingStatistics(let layer):
            return "no activation statistics for '\(layer)' (calibration did not reach it)"
        case .graph(let e): return e.description
        case .format(let e): return "quantized model is invalid: \(e)"
        case .nonFiniteValue(let layer, let what, let index, let value):
            return "layer '\(layer)': \(what) element \(index) is \(value) after BatchNorm folding; a weight must be a finite number "
                + "(look for a BatchNorm with a near-zero variance or huge gamma before this layer)"
        }
    }
}
