import Foundation
import QCore

/// Normalization, LayerScale, and Keras 3 functional ops on a tensor and a constant
/// (`x + 3.0`, `x * (1 / 6)`), all of which are per-channel affine maps (`Op.rescaling`).
extension GraphBuilder {
    /// Keras' smallest standard deviation in Normalization (`backend.epsilon()`).
    static let normalizationEpsilon = 1e-7

    /// `Normalization`: `(x - mean) / max(sqrt(variance), 1e-7)` over the last axis, `mean` and `variance`
    /// from the config (given at construction) or the stored weights (mean, variance, count: adapted).
    mutating func addNormalization(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        let s = shape(input)
        let rank = s.count, channels = s.last ?? 1
        let axes = layer.has("axis") ? try layer.intList("axis") : [-1]
        guard axes.count == 1, axes[0] == -1 || axes[0] == rank else {
            throw layer.unsupported("axis", "\(axes) (only the last, channel axis is supported)")
        }
        if try layer.bool("invert", default: false) { throw layer.unsupported("invert", "true") }
        var mean: [Float], variance: [Float]
        if layer.has("mean"), layer.has("variance") {
            mean = try layer.floatList("mean", default: [0])
            variance = try layer.floatList("variance", default: [1])
            _ = try weights.load(layer, expected: [])
        } else {
            let tensors = try weights.load(layer, expected: [ExpectedWeight(role: "mean", shape: [channels]),
                                                             ExpectedWeight(role: "variance", shape: [channels]),
                                                             ExpectedWeight(role: "count", shape: [])])
            mean = tensors[0].data
            variance = tensors[1].data
        }
        if mean.count == 1 { mean = [Float](repeating: mean[0], count: channels) }
        if variance.count == 1 { variance = [Float](repeating: variance[0], count: channels) }
        guard mean.count == channels, variance.count == channels else {
            throw layer.invalid("mean (\(mean.count) values) and variance (\(variance.count)) must have 1 or \(channels) values")
        }
        var scale = [Float](repeating: 1, count: channels), offset = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            guard variance[c] >= 0 else { throw layer.invalid("variance[\(c)] = \(variance[c]) is negative") }
            let std = max(Double(variance[c]).squareRoot(), Self.normalizationEpsilon)
            scale[c] = Float(1 / std)
            offset[c] = Float(-Double(mean[c]) / std)
        }
        return try add(name, layer, .rescaling(scale: scale, offset: offset), inputs: [input])
    }

    /// ConvNeXt's `LayerScale`: `x * gamma`, gamma one value per channel (weight `gamma`).
    mutating func addLayerScale(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        let channels = shape(input).last ?? 1
        let gamma = try weights.load(layer, expected: [ExpectedWeight(role: "gamma", shape: [channels])])[0].data
        return try add(name, layer, .rescaling(scale: gamma, offset: [0]), inputs: [input])
    }

    /// A Keras 3 op (`keras.src.ops.numpy.Add` ...) called on one tensor and one number, which
    /// `ModelTopology` recorded as `opConstant` / `opConstantFirst`; two tensors make the merge op.
    mutating func addScalarOp(_ layer: LayerConfig, name: String, inputs: [Int], op: String) throws(KerasImportError) -> Int {
        guard let constant = layer.values[ModelTopology.opConstantKey] as? Double else {
            switch op {
            case "Add": return try addMerge(layer, name: name, inputs: inputs, op: .add)
            case "Subtract": return try addMerge(layer, name: name, inputs: inputs, op: .subtract)
            case "Multiply": return try addMerge(layer, name: name, inputs: inputs, op: .multiply)
            default: throw layer.unsupported("operands", "two tensors (only a tensor and a number are supported for \(op))")
            }
        }
        let input = try single(inputs, name, layer)
        let first = layer.values[ModelTopology.opConstantFirstKey] as? Bool ?? false
        let c = Float(constant)
        let scale: Float, offset: Float
        switch (op, first) {
        case ("Add", _): (scale, offset) = (1, c)
        case ("Subtract", false): (scale, offset) = (1, -c)
        case ("Subtract", true): (scale, offset) = (-1, c)
        case ("Multiply", _): (scale, offset) = (c, 0)
        case ("TrueDivide", false), ("Divide", false):
            guard constant != 0 else { throw layer.invalid("division by the constant 0") }
            (scale, offset) = (Float(1 / constant), 0)
        default:
            throw layer.unsupported("operation", "\(first ? "\(constant) \(op) x" : "x \(op) \(constant)")")
        }
        return try add(name, layer, .rescaling(scale: [scale], offset: [offset]), inputs: [input])
    }
}

extension GraphBuilder {
    /// `LayerNormalization` over the last (channel) axis: weights gamma (with `scale`) then beta (with
    /// `center`), in Keras' order; `rms_scaling` is refused.
    mutating func addLayerNormalization(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        let s = shape(input)
        let channels = s.last ?? 1
        let axes = layer.has("axis") ? try layer.intList("axis") : [-1]
        guard axes.count == 1, axes[0] == -1 || axes[0] == s.count else {
            throw layer.unsupported("axis", "\(axes) (only the last, channel axis is supported)")
        }
        if try layer.bool("rms_scaling", default: false) { throw layer.unsupported("rms_scaling", "true") }
        let scale = try layer.bool("scale", default: true), center = try layer.bool("center", default: true)
        let epsilon = try layer.double("epsilon", default: 1e-3)
        guard epsilon.isFinite, epsilon >= 0 else { throw layer.invalid("epsilon \(epsilon) must be finite and >= 0") }
        var expected: [ExpectedWeight] = []
        if scale { expected.append(ExpectedWeight(role: "gamma", shape: [channels])) }
        if center { expected.append(ExpectedWeight(role: "beta", shape: [channels])) }
        let tensors = try weights.load(layer, expected: expected)
        let gamma = scale ? tensors[0].data : [Float](repeating: 1, count: channels)
        let beta = center ? tensors[scale ? 1 : 0].data : [Float](repeating: 0, count: channels)
        return try add(name, layer, .layerNorm(LayerNorm(gamma: gamma, beta: beta, epsilon: Float(epsilon))), inputs: [input])
    }
}
