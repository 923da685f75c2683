import QCore

extension ModelTopology {
    /// Builds the graph: every call of every layer becomes node(s), in an order where each call
    /// follows its inputs (a shared layer's later calls may depend on layers listed after it).
    /// Call `k > 0` of a layer is named `layer#k`.
    func buildGraph(context: ImportContext, weights: any WeightSource) throws(KerasImportError) -> Graph {
        let path = context.path
        var callCounts: [String: Int] = [:]
        for layer in layers { callCounts[layer.config.name] = layer.calls.count }
        func check(_ ref: TensorRef, usedBy user: String) throws(KerasImportError) {
            guard let calls = callCounts[ref.layer] else {
                throw .invalidConfig(path: path, detail: "\(user) refers to layer '\(ref.layer)', which the model does not have")
            }
            guard ref.node >= 0, ref.node < calls else {
                throw .invalidConfig(path: path, detail: "\(user) refers to call \(ref.node) of layer '\(ref.layer)', which has \(calls) call(s)")
            }
            guard ref.tensor == 0 else {
                throw .invalidConfig(path: path, detail: "\(user) refers to output \(ref.tensor) of layer '\(ref.layer)'; "
                    + "only single-output layers are supported")
            }
        }
        for layer in layers {
            for call in layer.calls {
                for ref in call { try check(ref, usedBy: "layer '\(layer.config.name)'") }
            }
        }
        for ref in inputs + outputs { try check(ref, usedBy: "the model's input/output list") }

        var builder = GraphBuilder(context: context, weights: weights)
        var produced: [TensorRef: Int] = [:]
        var pending: [(layer: Int, call: Int)] = []
        for (l, layer) in layers.enumerated() {
            for c in layer.calls.indices { pending.append((l, c)) }
        }
        while !pending.isEmpty {
            var waiting: [(layer: Int, call: Int)] = []
            for (l, c) in pending {
                let layer = layers[l]
                var inputNodes: [Int] = []
                for ref in layer.calls[c] {
                    guard let node = produced[ref] else { break }
                    inputNodes.append(node)
                }
                guard inputNodes.count == layer.calls[c].count else {
                    waiting.append((l, c))
                    continue
                }
                let name = c == 0 ? layer.config.name : "\(layer.config.name)#\(c)"
                let output = try builder.build(layer.config, name: name, inputs: inputNodes)
                produced[TensorRef(layer: layer.config.name, node: c, tensor: 0)] = output
            }
            guard waiting.count < pending.count else {
                let names = waiting.map { layers[$0.layer].config.name }
                throw .invalidConfig(path: path, detail: "layers \(names.joined(separator: ", ")) form a cycle or wait on each other")
            }
            pending = waiting
        }

        var inputNodes: [Int] = []
        for ref in inputs {
            let node = produced[ref]!
            guard builder.nodes[node].op == .input else {
                throw .invalidConfig(path: path, detail: "model input '\(ref.layer)' is not an InputLayer")
            }
            inputNodes.append(node)
        }
        return try builder.finish(inputs: inputNodes, outputs: outputs.map { produced[$0]! })
    }
}
