import Foundation
import QCore

/// The `inspect` view of a float model: one row per node and totals.
public struct ModelSummary: Codable, Sendable {
    public struct Layer: Codable, Sendable {
        public var name: String
        public var op: String
        public var sourceClass: String
        public var inputs: [String]
        public var inputShapes: [[Int]]
        public var outputShape: [Int]
        public var activation: String?
        public var parameters: Int
        public var macs: Int
    }
    /// Version of this JSON document's layout (docs/inspect-json.md).
    public var schemaVersion = 1
    public var model: String
    public var origin: String
    public var inputShape: [Int]
    public var outputShapes: [[Int]]
    public var layers: [Layer]
    public var totalParameters: Int
    /// Multiply-accumulates per sample.
    public var totalMACs: Int
    /// Float32 bytes of the parameters (`FloatModelSize`).
    public var floatBytes: Int

    public init(_ model: LoadedModel) {
        let graph = model.graph
        layers = graph.nodes.map { node in
            let inputShapes = node.inputs.map { graph.nodes[$0].shape }
            return Layer(name: node.name, op: node.op.name, sourceClass: node.sourceClass,
                         inputs: node.inputs.map { graph.nodes[$0].name }, inputShapes: inputShapes,
                         outputShape: node.shape, activation: Self.fusedActivation(node.op)?.name,
                         parameters: GraphStatistics.parameterCount(node),
                         macs: GraphStatistics.macs(node, inputShapes: inputShapes))
        }
        self.model = model.path
        origin = model.origin
        inputShape = graph.inputs.first.map { graph.nodes[$0].shape } ?? []
        outputShapes = graph.outputs.map { graph.nodes[$0].shape }
        totalParameters = layers.reduce(0) { $0 + $1.parameters }
        totalMACs = layers.reduce(0) { $0 + $1.macs }
        floatBytes = FloatModelSize.bytes(parameters: FloatModelSize.parameters(graph))
    }

    static func fusedActivation(_ op: Op) -> Activation? {
        switch op {
        case .conv2D(let c): return c.activation == .linear ? nil : c.activation
        case .depthwiseConv2D(let c): return c.activation == .linear ? nil : c.activation
        case .conv2DTranspose(let c): return c.activation == .linear ? nil : c.activation
        case .dense(let d): return d.activation == .linear ? nil : d.activation
        default: return nil
        }
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// A fixed-width text table for terminals.
    public func table() -> String {
        func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ",") + "]" }
        var rows: [[String]] = [["#", "name", "op", "input", "output", "params", "MACs"]]
        for (i, l) in layers.enumerated() {
            let op = l.activation.map { "\(l.op)+\($0)" } ?? l.op
            rows.append(["\(i)", l.name, op, l.inputShapes.map(shape).joined(separator: " "), shape(l.outputShape),
                         Self.grouped(l.parameters), Self.grouped(l.macs)])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        var out = "model: \(model)\nsource: \(origin)\n\n"
        for (r, row) in rows.enumerated() {
            let cells = row.enumerated().map { c, cell in
                c >= 5 ? String(repeating: " ", count: widths[c] - cell.count) + cell
                       : cell + String(repeating: " ", count: widths[c] - cell.count)
            }
            out += cells.joined(separator: "  ") + "\n"
            if r == 0 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        out += "\ntotal: \(layers.count) layers, \(Self.grouped(totalParameters)) parameters (\(Self.grouped(floatBytes)) bytes float32), \(Self.grouped(totalMACs)) MACs per sample\n"
        return out
    }

    static func grouped(_ n: Int) -> String {
        let digits = String(n)
        var out = ""
        for (i, ch) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }
}
