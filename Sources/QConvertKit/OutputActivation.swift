import Foundation
import QBin

/// The float activation a `.qbin` applies after dequantizing its output (metadata key
/// `output.activation`). The quantizer stores a final softmax this way instead of as an integer op:
/// a softmax of int8 logits loses most of its resolution, and consumers want probabilities.
public enum OutputActivation: String, Sendable {
    case softmax

    /// The metadata key naming the activation.
    public static let metadataKey = "output.activation"

    /// The activation recorded in `model`'s metadata; nil when none (or `linear`) is recorded.
    /// An unknown name is an error so that a newer file's outputs are never silently misread.
    public static func of(_ model: QModel) throws(QBinError) -> OutputActivation? {
        guard let name = model.metadataValue(metadataKey), name != "linear" else { return nil }
        guard let activation = OutputActivation(rawValue: name) else {
            throw .invalidModel(reason: "metadata \(metadataKey) = '\(name)' is not an activation this qconvert applies (softmax, linear)")
        }
        return activation
    }

    /// Applies the activation in place to `rows` consecutive rows of `width` values each.
    ///
    /// softmax: `y[i] = exp(x[i] - max(x)) / sum_j exp(x[j] - max(x))` over each row (the last axis,
    /// Keras' default); subtracting the row maximum keeps `exp` finite and changes nothing else.
    public func apply(_ values: UnsafeMutableBufferPointer<Float>, width: Int) {
        guard width > 0 else { return }
        switch self {
        case .softmax:
            var start = 0
            while start + width <= values.count {
                let row = start..<start + width
                let maximum = values[row].max() ?? 0
                var sum: Float = 0
                for i in row {
                    let e = Float(exp(Double(values[i] - maximum)))
                    values[i] = e
                    sum += e
                }
                for i in row { values[i] /= sum }
                start += width
            }
        }
    }
}
