/// One node of the graph: an op applied to the outputs of earlier nodes.
public struct Node: Sendable, Equatable {
    /// The layer name in the source model (unique within a graph).
    public var name: String
    /// The class the node came from in the source model (`Conv2D`, `SeparableConv2D`, ...).
    public var sourceClass: String
    public var op: Op
    /// Indices of the producing nodes, in argument order.
    public var inputs: [Int]
    /// Per-sample output shape (batch excluded), filled by `Graph.inferShapes()`.
    public var shape: [Int]

    public init(name: String, sourceClass: String, op: Op, inputs: [Int], shape: [Int] = []) {
        self.name = name; self.sourceClass = sourceClass; self.op = op; self.inputs = inputs; self.shape = shape
    }
}

/// A float model as a DAG of nodes in topological order (every input index is smaller than the node's).
///
/// Single-output ops only: a layer with several outputs becomes several nodes. Input nodes carry
/// their shape; every other shape is derived by `inferShapes()`.
public struct Graph: Sendable, Equatable {
    public var nodes: [Node]
    public var inputs: [Int]
    public var outputs: [Int]

    public init(nodes: [Node], inputs: [Int], outputs: [Int]) {
        self.nodes = nodes; self.inputs = inputs; self.outputs = outputs
    }

    public func index(of name: String) -> Int? { nodes.firstIndex { $0.name == name } }

    /// Indices of the nodes that read node `i`'s output.
    public func consumers(of i: Int) -> [Int] {
        nodes.indices.filter { nodes[$0].inputs.contains(i) }
    }

    /// Checks the topological order and recomputes every non-input node's shape.
    public mutating func inferShapes() throws(GraphError) {
        for i in nodes.indices {
            for p in nodes[i].inputs where p < 0 || p >= i {
                throw .invalidGraph(node: nodes[i].name, reason: "input index \(p) is not an earlier node")
            }
            if case .input = nodes[i].op {
                guard !nodes[i].shape.isEmpty else { throw .invalidGraph(node: nodes[i].name, reason: "input without a shape") }
                continue
            }
            let inputShapes = nodes[i].inputs.map { nodes[$0].shape }
            nodes[i].shape = try ShapeInference.outputShape(of: nodes[i], inputShapes: inputShapes)
        }
        for o in outputs where o < 0 || o >= nodes.count {
            throw .invalidGraph(node: "<outputs>", reason: "output index \(o) out of range")
        }
    }
}

/// Errors found while building or checking a graph.
public enum GraphError: Error, Equatable, CustomStringConvertible {
    case invalidGraph(node: String, reason: String)
    case shapeMismatch(node: String, op: String, expected: String, found: [[Int]])

    public var description: String {
        switch self {
        case .invalidGraph(let node, let reason):
            return "invalid graph at node '\(node)': \(reason)"
        case .shapeMismatch(let node, let op, let expected, let found):
            let shapes = found.map { "[\($0.map(String.init).joined(separator: ", "))]" }.joined(separator: ", ")
            return "shape mismatch at node '\(node)' (\(op)): expected \(expected), found input shape(s) \(shapes)"
        }
    }
}
