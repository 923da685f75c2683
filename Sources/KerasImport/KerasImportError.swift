import HDF5
import QCore

/// Why a Keras `.h5` file could not be turned into a graph. Every description is one line that
/// names the file (and the layer and class where there is one) and says what to do.
public enum KerasImportError: Error, CustomStringConvertible {
    case hdf5(HDF5Error)
    case missingModelConfig(path: String)
    case invalidConfig(path: String, detail: String)
    case unsupportedLayer(path: String, layer: String, className: String, supported: [String])
    case unsupportedOption(path: String, layer: String, option: String, value: String)
    case missingWeights(path: String, layer: String, detail: String)
    case weightShapeMismatch(path: String, layer: String, weight: String, expected: [Int], found: [Int])
    case graph(path: String, GraphError)
    /// A stored weight value no model can hold (NaN or infinite weights, a negative BatchNorm
    /// variance); `index` is the first bad element, row-major.
    case badWeightValue(path: String, layer: String, weight: String, index: Int, detail: String)
    /// A `.keras` zip that cannot be read safely (damaged, a member missing, over a size limit, unsafe names).
    case archive(path: String, detail: String)
    /// A Keras 3 `.weights.h5` without an architecture next to it.
    case weightsWithoutConfig(path: String, tried: [String])

    public var description: String {
        switch self {
        case .hdf5(let error):
            return error.description
        case .missingModelConfig(let path):
            return "\(path) has no 'model_config' attribute: it is a weights-only file; "
                + "save the full model with model.save('x.h5')"
        case .invalidConfig(let path, let detail):
            return "\(path): invalid Keras model_config: \(detail)"
        case .unsupportedLayer(let path, let layer, let className, let supported):
            return "\(path): layer '\(layer)' has class \(className), which qconvert cannot import; "
                + "supported classes: \(supported.joined(separator: ", "))"
        case .unsupportedOption(let path, let layer, let option, let value):
            return "\(path): layer '\(layer)' uses \(option) = \(value), which qconvert does not support; "
                + "rebuild the layer without it (or replace it by a supported equivalent) and save again"
        case .missingWeights(let path, let layer, let detail):
            return "\(path): weights of layer '\(layer)' are missing or incomplete: \(detail); "
                + "save the full model again (model.save('m.keras') or model.save('m.h5')) after building it"
        case .weightShapeMismatch(let path, let layer, let weight, let expected, let found):
            return "\(path): layer '\(layer)' weight '\(weight)' has shape \(Self.format(found)), "
                + "but the layer's config implies \(Self.format(expected)); the file is inconsistent or was edited"
        case .graph(let path, let error):
            return "\(path): \(error.description)"
        case .badWeightValue(let path, let layer, let weight, let index, let detail):
            return "\(path): layer '\(layer)' weight '\(weight)' element \(index) \(detail); "
                + "the model is broken (diverged training or a damaged file): fix or retrain it and save again"
        case .archive(let path, let detail):
            return "\(path): not a usable .keras archive: \(detail)"
        case .weightsWithoutConfig(let path, let tried):
            return "\(path) holds Keras 3 weights only (no architecture), and no config was found next to it (tried "
                + tried.joined(separator: ", ") + "); pass the architecture JSON with --config FILE.json, write it with "
                + "open('<name>.json', 'w').write(model.to_json()) beside the weights, or save the whole model with model.save('m.keras')"
        }
    }

    static func format(_ shape: [Int]) -> String {
        "[" + shape.map(String.init).joined(separator: ", ") + "]"
    }
}
