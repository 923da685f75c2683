import QCore

/// Where layer weights come from: the `model_weights` group of a `.h5` file, or memory in tests.
protocol WeightSource {
    /// Names (as listed in `weight_names`, in order) and shapes of a layer's stored weights;
    /// nil when the file holds no group for the layer.
    func weightList(layer: String) throws(KerasImportError) -> [(name: String, shape: [Int])]?
    /// The values of one weight named by `weightList`, row-major.
    func read(layer: String, weight: String) throws(KerasImportError) -> [Float]
    /// Where the file keeps a layer's weights, for messages (`model_weights/conv`, `layers/conv2d/vars`).
    func location(layer: String) -> String
}

/// One weight a layer's config implies: its role (`kernel`, `gamma`, ...) and shape.
struct ExpectedWeight {
    var role: String
    var shape: [Int]
}

extension WeightSource {
    /// Reads a layer's weights in `weight_names` order, checking their number against `expected`
    /// and each shape against the config, so a mislabelled file fails with the layer and weight named.
    func load(_ layer: LayerConfig, expected: [ExpectedWeight]) throws(KerasImportError) -> [Tensor] {
        guard !expected.isEmpty else { return [] }
        let roles = expected.map(\.role).joined(separator: ", ")
        guard let stored = try weightList(layer: layer.name) else {
            throw .missingWeights(path: layer.path, layer: layer.name,
                                  detail: "the file has no group \(location(layer: layer.name)) (expected \(roles))")
        }
        guard stored.count == expected.count else {
            let names = stored.isEmpty ? "none" : stored.map(\.name).joined(separator: ", ")
            throw .missingWeights(path: layer.path, layer: layer.name,
                                  detail: "expected \(expected.count) weights (\(roles)), \(location(layer: layer.name)) holds \(stored.count) (\(names))")
        }
        var tensors: [Tensor] = []
        for (want, have) in zip(expected, stored) {
            guard want.shape == have.shape else {
                throw .weightShapeMismatch(path: layer.path, layer: layer.name, weight: have.name, expected: want.shape, found: have.shape)
            }
            let values = try read(layer: layer.name, weight: have.name)
            guard values.count == want.shape.reduce(1, *) else {
                throw .missingWeights(path: layer.path, layer: layer.name,
                                      detail: "weight '\(have.name)' holds \(values.count) values, its shape \(want.shape) needs \(want.shape.reduce(1, *))")
            }
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw .badWeightValue(path: layer.path, layer: layer.name, weight: have.name, index: bad,
                                      detail: "is \(values[bad]), not a finite number")
            }
            tensors.append(Tensor(shape: want.shape, data: values))
        }
        return tensors
    }
}

/// Weights held in memory, keyed by layer name (tests and hand-built configs).
struct InMemoryWeights: WeightSource {
    var layers: [String: [(name: String, tensor: Tensor)]]

    init(_ layers: [String: [(name: String, tensor: Tensor)]] = [:]) { self.layers = layers }

    func weightList(layer: String) throws(KerasImportError) -> [(name: String, shape: [Int])]? {
        layers[layer].map { $0.map { ($0.name, $0.tensor.shape) } }
    }

    func location(layer: String) -> String { "<memory>/\(layer)" }

    func read(layer: String, weight: String) throws(KerasImportError) -> [Float] {
        guard let tensor = layers[layer]?.first(where: { $0.name == weight })?.tensor else {
            throw .missingWeights(path: "<memory>", layer: layer, detail: "no weight '\(weight)'")
        }
        return tensor.data
    }
}
