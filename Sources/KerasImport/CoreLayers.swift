import QCore

/// InputLayer, Dense, BatchNormalization, Activation, Softmax and Rescaling.
extension GraphBuilder {
    /// An input node: `batch_shape` (Keras 3) or `batch_input_shape` (Keras 2) without the batch axis.
    mutating func addInput(_ layer: LayerConfig, name: String) throws(KerasImportError) -> Int {
        guard let key = ["batch_shape", "batch_input_shape"].first(where: { layer.has($0) }),
              let dims = layer.raw(key) as? [Any], !dims.isEmpty else {
            throw layer.invalid("no batch_shape / batch_input_shape: build the model from keras.Input((H, W, C))")
        }
        var shape: [Int] = []
        for dim in dims.dropFirst() {
            guard let size = JSONNumber.int(dim), size > 0 else {
                let text = "[" + dims.map { JSONNumber.describe($0).replacingOccurrences(of: "null", with: "None") }.joined(separator: ", ") + "]"
                throw layer.invalid("input shape \(text) has an unknown or invalid dimension; every dimension except the batch "
                    + "must be fixed: rebuild the model with keras.Input((H, W, C)) using the real sizes")
            }
            shape.append(size)
        }
        guard !shape.isEmpty else { throw layer.invalid("input shape has no dimension besides the batch") }
        return try add(name, layer, .input, inputs: [], shape: shape)
    }

    /// Dense over the last axis (Keras applies it to every position of a higher-rank input).
    mutating func addDense(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        guard let features = shape(input).last else { throw shapeError(name, layer, expected: "a non-scalar input", inputs: inputs) }
        let units = try layer.int("units")
        let useBias = try layer.bool("use_bias", default: true)
        var expected = [ExpectedWeight(role: "kernel", shape: [features, units])]
        if useBias { expected.append(ExpectedWeight(role: "bias", shape: [units])) }
        let tensors = try weights.load(layer, expected: expected)
        let activation = try Activations.parse(layer, context: context)
        let dense = Dense(weights: tensors[0], bias: useBias ? tensors[1].data : nil, activation: activation)
        return try add(name, layer, .dense(dense), inputs: [input])
    }

    /// BatchNormalization over the last axis. Stored weights, in order: gamma (if `scale`),
    /// beta (if `center`), moving_mean, moving_variance.
    mutating func addBatchNorm(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        let rank = shape(input).count
        let axes = try layer.intList("axis")   // Keras 2 writes [3], Keras 3 -1
        guard axes.count == 1, axes[0] == -1 || axes[0] == rank else {
            throw layer.unsupported("axis", "\(axes.count == 1 ? String(axes[0]) : "\(axes)") (only the last, channel axis is supported)")
        }
        if try layer.bool("renorm", default: false) { throw layer.unsupported("renorm", "true") }
        let channels = shape(input)[rank - 1]
        let scale = try layer.bool("scale", default: true), center = try layer.bool("center", default: true)
        var expected: [ExpectedWeight] = []
        if scale { expected.append(ExpectedWeight(role: "gamma", shape: [channels])) }
        if center { expected.append(ExpectedWeight(role: "beta", shape: [channels])) }
        expected.append(ExpectedWeight(role: "moving_mean", shape: [channels]))
        expected.append(ExpectedWeight(role: "moving_variance", shape: [channels]))
        var tensors = try weights.load(layer, expected: expected)[...]
        let gamma = scale ? tensors.removeFirst().data : [Float](repeating: 1, count: channels)
        let beta = center ? tensors.removeFirst().data : [Float](repeating: 0, count: channels)
        let mean = tensors.removeFirst().data, variance = tensors.removeFirst().data
        let epsilon = Float(try layer.double("epsilon", default: 1e-3))
        guard epsilon.isFinite, epsilon >= 0 else { throw layer.invalid("epsilon is \(epsilon); it must be a finite number >= 0") }
        if let bad = variance.firstIndex(where: { $0 < 0 || $0 + epsilon <= 0 }) {
            throw .badWeightValue(path: layer.path, layer: layer.name, weight: "moving_variance", index: bad,
                                  detail: "is \(variance[bad]) (with epsilon \(epsilon)); a variance must be positive")
        }
        let bn = BatchNorm(gamma: gamma, beta: beta, mean: mean, variance: variance, epsilon: epsilon)
        return try add(name, layer, .batchNorm(bn), inputs: [input])
    }

    /// An Activation layer; `linear` becomes an identity node.
    mutating func addActivationLayer(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        guard layer.has("activation") else { throw layer.invalid("missing 'activation'") }
        let activation = try Activations.parse(layer, context: context)
        return try add(name, layer, activation == .linear ? .identity : .activation(activation), inputs: [input])
    }

    /// Softmax over the last axis only (`axis` -1, or the last axis counted with the batch).
    mutating func addSoftmax(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        let axes = layer.has("axis") ? try layer.intList("axis") : [-1]
        guard axes.count == 1, axes[0] == -1 || axes[0] == shape(input).count else {
            throw layer.unsupported("axis", "\(axes) (only the last axis is supported)")
        }
        return try add(name, layer, .activation(.softmax), inputs: [input])
    }

    /// `y = x * scale + offset`, scalars or per-channel lists.
    mutating func addRescaling(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try single(inputs, name, layer)
        let scale = try layer.floatList("scale", default: [1])
        let offset = try layer.floatList("offset", default: [0])
        return try add(name, layer, .rescaling(scale: scale, offset: offset), inputs: [input])
    }
}
