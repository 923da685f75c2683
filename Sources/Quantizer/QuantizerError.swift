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
        }
    }
}
