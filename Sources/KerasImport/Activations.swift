import Foundation
import QCore

/// Settings that depend on which Keras wrote the file.
struct ImportContext {
    var path: String
    var format: KerasFormat

    /// `hard_sigmoid` changed in Keras 3: Keras 2 computes `clamp(0.2 x + 0.5, 0, 1)`,
    /// Keras 3 `relu6(x + 3) / 6 = clamp(x / 6 + 0.5, 0, 1)`.
    var hardSigmoid: Activation {
        format == .keras3 ? .hardSigmoid(slope: 1.0 / 6.0, offset: 0.5) : .hardSigmoid(slope: 0.2, offset: 0.5)
    }
}

/// Turning Keras activation identifiers into `Activation`.
enum Activations {
    /// Names accepted in `activation` fields and Activation layers.
    static let supported = ["linear", "relu", "relu6", "leaky_relu", "sigmoid", "tanh", "softmax", "hard_sigmoid", "swish", "silu", "hard_silu", "hard_swish", "gelu"]

    /// Reads `config[key]`: a name (`"relu"`), a registered name (`"keras.activations.relu"`), or a
    /// Keras 3 object (`{"class_name": "function", "config": "relu"}`, or a ReLU/LeakyReLU layer).
    static func parse(_ layer: LayerConfig, key: String = "activation", context: ImportContext) throws(KerasImportError) -> Activation {
        guard let value = layer.raw(key) else { return .linear }
        if let name = value as? String { return try named(name, layer: layer, key: key, context: context) }
        if let dict = value as? [String: Any] {
            if let name = dict["config"] as? String { return try named(name, layer: layer, key: key, context: context) }
            if let className = dict["class_name"] as? String {
                let inner = LayerConfig(path: layer.path, name: layer.name, className: className,
                                        values: dict["config"] as? [String: Any] ?? [:])
                switch className {
                case "ReLU": return try relu(inner)
                case "LeakyReLU": return try leakyRelu(inner)
                default: return try named(className, layer: layer, key: key, context: context)
                }
            }
        }
        throw layer.invalid("'\(key)' is \(JSONNumber.describe(value)), expected an activation name")
    }

    static func named(_ raw: String, layer: LayerConfig, key: String, context: ImportContext) throws(KerasImportError) -> Activation {
        // "keras.activations.relu", "activations>relu" and "ReLU" all name relu.
        let base = raw.split(whereSeparator: { $0 == "." || $0 == ">" }).last.map(String.init) ?? raw
        switch base.lowercased() {
        case "linear", "": return .linear
        case "relu": return .relu
        case "relu6": return .relu6
        case "leaky_relu", "leakyrelu": return .leakyRelu(alpha: 0.2)   // keras.activations.leaky_relu default slope
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "softmax": return .softmax
        case "hard_sigmoid", "hardsigmoid": return context.hardSigmoid
        case "swish", "silu": return .swish
        case "hard_silu", "hard_swish", "hardswish": return .hardSwish
        case "gelu": return .gelu
        default: throw layer.unsupported(key, raw)
        }
    }

    /// Keras' ReLU layer: `x >= max_value ? max_value : x >= threshold ? x : negative_slope * (x - threshold)`.
    static func relu(_ layer: LayerConfig) throws(KerasImportError) -> Activation {
        let maxValue = try layer.optionalDouble("max_value")
        let slope = try layer.double("negative_slope", default: 0)
        let threshold = try layer.double("threshold", default: 0)
        if let maxValue, maxValue < 0 { throw layer.invalid("max_value \(maxValue) is negative") }
        switch (maxValue, slope, threshold) {
        case (nil, 0, 0): return .relu
        case (6?, 0, 0): return .relu6
        case (nil, _, 0): return .leakyRelu(alpha: Float(slope))
        default: return .generalRelu(maxValue: maxValue.map(Float.init), negativeSlope: Float(slope), threshold: Float(threshold))
        }
    }

    /// LeakyReLU: `alpha` in Keras 2, `negative_slope` in Keras 3; both default to 0.3.
    static func leakyRelu(_ layer: LayerConfig) throws(KerasImportError) -> Activation {
        let key = layer.has("negative_slope") ? "negative_slope" : "alpha"
        return .leakyRelu(alpha: Float(try layer.double(key, default: 0.3)))
    }
}
