import QCore

extension GraphBuilder {
    /// The custom Keras layer `TVSmoothing` of `tools/qconvert_layers.py` (a model trained with TV
    /// smoothing): config `gamma` (>= 0, in the units of the values), `steps` (>= 0) and `eps`
    /// (> 0; absent or null means `16 gamma^2`, docs/tv-smoothing.md). No weights.
    mutating func addTVSmoothing(_ layer: LayerConfig, name: String, inputs: [Int]) throws(KerasImportError) -> Int {
        let input = try image(inputs, name, layer)
        try layer.requireChannelsLast()
        let gamma = try layer.double("gamma")
        let steps = try layer.int("steps", default: 1)
        let eps = try layer.optionalDouble("eps")
        let tv = TVSmoothing(gamma: Float(gamma), steps: steps, epsilon: eps.map(Float.init))
        if let reason = tv.invalidReason { throw layer.invalid(reason) }
        return try add(name, layer, .tvSmoothing(tv), inputs: [input.node])
    }
}
