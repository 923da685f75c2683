import Calibration
import Ops
import QCore

/// `--tv-smoothing off|auto|GAMMA`: whether and how TV smoothing ops are inserted (docs/tv-smoothing.md).
public enum TVSmoothingMode: Sendable, Equatable, CustomStringConvertible {
    case off
    /// Gamma chosen per insertion point on the calibration data (`TVAutoSearch`); nothing where none helps.
    case auto
    /// One relative gamma for every insertion point: `gamma = value * scale`, `scale` the point's
    /// calibration 99.9th percentile of `|x|` (`TVInsertion.scale`).
    case relative(Double)

    public var description: String {
        switch self {
        case .off: return "off"
        case .auto: return "auto"
        case .relative(let g): return "\(g)"
        }
    }
}

/// Inserting TV smoothing nodes into a canonical graph.
enum TVInsertion {
    /// The default insertion points: the activations a convolution reads (its input 0), except graph
    /// inputs (data, not activations) and values that are not `[H, W, C]`; with `layers`, those nodes.
    static func points(_ graph: Graph, layers: [String]?) throws(QConvertError) -> [Int] {
        if let layers {
            var result: [Int] = []
            for name in layers {
                guard let i = graph.index(of: name) else {
                    throw .io(path: "--tv-layers", detail: "'\(name)' is not a layer of the model (after folding); candidates: \(points(graph).map { graph.nodes[$0].name }.joined(separator: ", "))")
                }
                guard graph.nodes[i].shape.count == 3 else {
                    throw .io(path: "--tv-layers", detail: "'\(name)' has shape \(graph.nodes[i].shape); TV smoothing needs an H x W x C map")
                }
                result.append(i)
            }
            return Array(Set(result)).sorted()
        }
        return points(graph)
    }

    static func points(_ graph: Graph) -> [Int] {
        var result = Set<Int>()
        for node in graph.nodes {
            switch node.op {
            case .conv2D, .depthwiseConv2D:
                let p = node.inputs[0]
                if !graph.inputs.contains(p), graph.nodes[p].shape.count == 3 { result.insert(p) }
            default: break
            }
        }
        return result.sorted()
    }

    /// `graph` with a TV node after each chosen point, read by the point's convolution consumers (all
    /// its consumers when none is a convolution; graph outputs stay). `nodeMap[i]`: new index of node i.
    static func insert(_ graph: Graph, _ choices: [Int: TVSmoothing]) -> (graph: Graph, nodeMap: [Int]) {
        var nodes: [Node] = []
        var map = [Int](repeating: -1, count: graph.nodes.count)
        var smoothed: [Int: Int] = [:] // old point -> new TV node
        for (i, node) in graph.nodes.enumerated() {
            var copy = node
            copy.inputs = node.inputs.map { p in
                guard let tv = smoothed[p], readsSmoothed(node, point: p, graph) else { return map[p] }
                return tv
            }
            map[i] = nodes.count
            nodes.append(copy)
            if let tv = choices[i] {
                smoothed[i] = nodes.count
                nodes.append(Node(name: node.name + "/tv", sourceClass: "TVSmoothing", op: .registered(tv), inputs: [map[i]], shape: node.shape))
            }
        }
        return (Graph(nodes: nodes, inputs: graph.inputs.map { map[$0] }, outputs: graph.outputs.map { map[$0] }), map)
    }

    private static func isConv(_ op: Op) -> Bool {
        switch op {
        case .conv2D, .depthwiseConv2D: return true
        default: return false
        }
    }

    private static func readsSmoothed(_ node: Node, point: Int, _ graph: Graph) -> Bool {
        let convReaders = graph.consumers(of: point).filter { isConv(graph.nodes[$0].op) }
        return convReaders.isEmpty || isConv(node.op)
    }

    /// The point's robust scale: the 99.9th percentile of `|x|` on the calibration data (the larger of
    /// `|p0.1|` and `|p99.9|`), at least the smallest positive normal float.
    static func scale(_ s: TensorStatistics) -> Double {
        Swift.max(Double(Swift.max(abs(s.percentile(99.9)), abs(s.percentile(0.1)))), Double(Float.leastNormalMagnitude))
    }
}
