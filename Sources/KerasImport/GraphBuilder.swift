import QCore

/// Builds graph nodes one Keras layer call at a time, inferring each node's shape as it is added
/// (conv padding and weight shapes depend on the input size).
struct GraphBuilder {
    let context: ImportContext
    let weights: any WeightSource
    private(set) var nodes: [Node] = []

    init(context: ImportContext, weights: any WeightSource) {
        self.context = context
        self.weights = weights
    }

    var path: String { context.path }

    func shape(_ node: Int) -> [Int] { nodes[node].shape }

    /// Appends a node after checking its inputs' shapes; returns its index.
    @discardableResult
    mutating func add(_ name: String, _ layer: LayerConfig, _ op: Op, inputs: [Int], shape: [Int] = []) throws(KerasImportError) -> Int {
        var node = Node(name: name, sourceClass: layer.className, op: op, inputs: inputs, shape: shape)
        do {
            node.shape = try ShapeInference.outputShape(of: node, inputShapes: inputs.map { nodes[$0].shape })
        } catch {
            throw .graph(path: path, error)
        }
        nodes.append(node)
        return nodes.count - 1
    }

    func shapeError(_ name: String, _ layer: LayerConfig, expected: String, inputs: [Int]) -> KerasImportError {
        .graph(path: path, .shapeMismatch(node: name, op: layer.className, expected: expected, found: inputs.map { nodes[$0].shape }))
    }

    /// The one input of a single-input layer.
    func single(_ inputs: [Int], _ name: String, _ layer: LayerConfig) throws(KerasImportError) -> Int {
        guard inputs.count == 1 else { throw shapeError(name, layer, expected: "exactly one input", inputs: inputs) }
        return inputs[0]
    }

    /// The one input of a 2-D layer, which must be H x W x C per sample.
    func image(_ inputs: [Int], _ name: String, _ layer: LayerConfig) throws(KerasImportError) -> (node: Int, h: Int, w: Int, c: Int) {
        let input = try single(inputs, name, layer)
        let s = shape(input)
        guard s.count == 3 else { throw shapeError(name, layer, expected: "an H x W x C input", inputs: inputs) }
        return (input, s[0], s[1], s[2])
    }

    /// The finished graph, re-checked end to end by `Graph.inferShapes()`.
    func finish(inputs: [Int], outputs: [Int]) throws(KerasImportError) -> Graph {
        var graph = Graph(nodes: nodes, inputs: inputs, outputs: outputs)
        do {
            try graph.inferShapes()
        } catch {
            throw .graph(path: path, error)
        }
        return graph
    }
}
