import QCore

/// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization
/// and Bias Correction", section 4.1): for a weighted op A whose only reader is a weighted op B, output
/// channel `i` of A is divided by `s_i` (its weights and bias) and B's weights reading channel `i` are
/// multiplied by `s_i`. Through a linear or ReLU activation (positively homogeneous:
/// `relu(x / s) = relu(x) / s` for `s > 0`) and any zero padding (`0 / s = 0`) the function is unchanged.
/// With `r1_i = max |W_A[i, :]|` and `r2_i = max |W_B[:, i]|`, `s_i = sqrt(r1_i / r2_i)` makes both
/// ranges `sqrt(r1_i r2_i)`: per-channel weight grids stop being set by one outlier channel of the
/// pair, and the tensor between them loses the per-channel spread that a per-tensor grid handles badly.
///
/// ReLU6 is left alone: its clamp at 6 would have to move to `6 / s_i` per channel, which the integer
/// op's single clamp cannot express.
public enum CrossLayerEqualization {
    /// Sweeps over all pairs (a chain A -> B -> C re-balances B after (B, C)); Nagel et al. iterate
    /// to convergence, which three sweeps reach within a few percent on the zoo.
    static let sweeps = 3

    public struct Pair: Sendable, Equatable {
        public var producer: String
        public var consumer: String
        /// Largest over smallest per-output-channel weight range of the producer, before and after.
        public var spreadBefore: Float
        public var spreadAfter: Float
    }

    /// The equalized graph and the pairs it changed (same nodes, names and shapes; only weights and biases differ).
    public static func equalize(_ graph: Graph) -> (graph: Graph, pairs: [Pair]) {
        var g = graph
        let pairs = Self.pairs(graph).map { ($0.producer, $0.consumer) }
        guard !pairs.isEmpty else { return (graph, []) }
        let before = pairs.map { spread(producerRanges(g.nodes[$0.0].op)!) }
        for _ in 0..<sweeps {
            for (a, b) in pairs {
                let r1 = producerRanges(g.nodes[a].op)!, r2 = consumerRanges(g.nodes[b].op)!
                let s = zip(r1, r2).map { r1, r2 -> Float in r1 > 0 && r2 > 0 ? (r1 / r2).squareRoot() : 1 }
                g.nodes[a].op = scaleProducer(g.nodes[a].op, by: s.map { 1 / $0 })
                g.nodes[b].op = scaleConsumer(g.nodes[b].op, by: s)
            }
        }
        let result = pairs.enumerated().map { k, p in
            Pair(producer: g.nodes[p.0].name, consumer: g.nodes[p.1].name, spreadBefore: before[k],
                 spreadAfter: spread(producerRanges(g.nodes[p.0].op)!))
        }
        return (g, result)
    }

    /// Activation-range equalization, for per-channel weight grids: there the producer's weights do not
    /// care how its output channels are scaled, so what a channel scale trades is the per-tensor grid of
    /// the activation between the pair against the consumer's weight grids. With `a_i` channel `i`'s span
    /// on the calibration data (`spans(producer)`, `max_i - min_i`: what the grid must cover once bias
    /// absorption centres it) and `r2_i` as in `equalize`: `s_i = sqrt(a_i / r2_i)` for a consumer that
    /// sums over channels (conv, dense), balancing `a_i / s_i` against `r2_i s_i` as Nagel et al. balance
    /// `r1_i` against `r2_i`; `s_i = a_i / max a` for a depthwise consumer, whose per-channel grids do not
    /// care either, so every channel takes the widest one's span. One pass: no scale of one pair changes
    /// another pair's spans or consumer ranges. `Pair` spreads are of the spans here.
    public static func equalizeActivations(_ graph: Graph, spans: (Int) -> [Float]?) -> (graph: Graph, pairs: [Pair]) {
        var g = graph
        var result: [Pair] = []
        for (a, _, b) in pairs(graph) {
            guard let span = spans(a), let r2 = consumerRanges(g.nodes[b].op), span.count == r2.count,
                  let widest = span.max(), widest > 0 else { continue }
            let s: [Float]
            if case .depthwiseConv2D = g.nodes[b].op {
                s = span.map { $0 > 0 ? $0 / widest : 1 }
            } else {
                s = zip(span, r2).map { a, r2 -> Float in a > 0 && r2 > 0 ? (a / r2).squareRoot() : 1 }
            }
            g.nodes[a].op = scaleProducer(g.nodes[a].op, by: s.map { 1 / $0 })
            g.nodes[b].op = scaleConsumer(g.nodes[b].op, by: s)
            result.append(Pair(producer: g.nodes[a].name, consumer: g.nodes[b].name, spreadBefore: spread(span),
                               spreadAfter: spread(zip(span, s).map { $0 / $1 })))
        }
        return (result.isEmpty ? graph : g, result)
    }

    /// Weighted ops `producer` (linear or ReLU activation) whose only reader, through `through` (max /
    /// average pooling, zero padding, each with a single reader), is the weighted op `consumer`, which
    /// reads each of the producer's channels separately. Bias absorption (`BiasAbsorption`) uses the same pairs.
    public static func pairs(_ g: Graph) -> [(producer: Int, through: [Int], consumer: Int)] {
        var readers = [[Int]](repeating: [], count: g.nodes.count)
        for (k, node) in g.nodes.enumerated() { for p in node.inputs { readers[p].append(k) } }
        let outputs = Set(g.outputs)
        var pairs: [(producer: Int, through: [Int], consumer: Int)] = []
        for a in g.nodes.indices where !outputs.contains(a) && readers[a].count == 1 {
            // Max / average pooling and zero padding commute with a positive per-channel scale: walk through them.
            var k = a
            var through: [Int] = []
            while readers[k].count == 1, !outputs.contains(k), passesScale(g.nodes[readers[k][0]].op),
                  g.nodes[readers[k][0]].inputs == [k] {
                k = readers[k][0]
                through.append(k)
            }
            guard readers[k].count == 1, !outputs.contains(k) else { continue }
            let b = readers[k][0]
            guard g.nodes[b].inputs == [k], let ra = producerRanges(g.nodes[a].op), let rb = consumerRanges(g.nodes[b].op),
                  ra.count == rb.count else { continue }
            pairs.append((a, through, b))
        }
        return pairs
    }

    /// Ops between a pair that a positive per-channel scale passes through unchanged:
    /// `max(x / s) = max(x) / s`, `mean(x / s) = mean(x) / s`, `0 / s = 0`.
    static func passesScale(_ op: Op) -> Bool {
        switch op {
        case .maxPool2D, .averagePool2D, .zeroPadding2D: return true
        default: return false
        }
    }

    static func spread(_ r: [Float]) -> Float {
        let live = r.filter { $0 > 0 }
        guard let hi = live.max(), let lo = live.min(), lo > 0 else { return 1 }
        return hi / lo
    }

    /// Max |weight| per output channel of an op whose output CLE may rescale (linear or ReLU activation).
    static func producerRanges(_ op: Op) -> [Float]? {
        switch op {
        case .conv2D(let c) where c.activation == .linear || c.activation == .relu:
            return ranges(c.weights.data, channels: c.outChannels) { $0 % c.outChannels }
        case .depthwiseConv2D(let c) where c.activation == .linear || c.activation == .relu:
            return ranges(c.weights.data, channels: c.outChannels) { $0 % c.outChannels }
        case .dense(let d) where d.activation == .linear || d.activation == .relu:
            return ranges(d.weights.data, channels: d.outFeatures) { $0 % d.outFeatures }
        default:
            return nil
        }
    }

    /// Max |weight| per input channel of an op that reads its input channels separately.
    static func consumerRanges(_ op: Op) -> [Float]? {
        switch op {
        case .conv2D(let c) where c.groups == 1:
            return ranges(c.weights.data, channels: c.inChannels) { ($0 / c.outChannels) % c.inChannels }
        case .depthwiseConv2D(let c):
            return ranges(c.weights.data, channels: c.inChannels) { ($0 / c.multiplier) % c.inChannels }
        case .dense(let d):
            return ranges(d.weights.data, channels: d.inFeatures) { $0 / d.outFeatures }
        default:
            return nil
        }
    }

    static func ranges(_ w: [Float], channels: Int, channel: (Int) -> Int) -> [Float] {
        var r = [Float](repeating: 0, count: channels)
        for i in w.indices { r[channel(i)] = max(r[channel(i)], abs(w[i])) }
        return r
    }

    static func scaleProducer(_ op: Op, by f: [Float]) -> Op {
        switch op {
        case .conv2D(var c):
            for i in c.weights.data.indices { c.weights.data[i] *= f[i % c.outChannels] }
            for o in c.bias.indices { c.bias[o] *= f[o] }
            return .conv2D(c)
        case .depthwiseConv2D(var c):
            for i in c.weights.data.indices { c.weights.data[i] *= f[i % c.outChannels] }
            for o in c.bias.indices { c.bias[o] *= f[o] }
            return .depthwiseConv2D(c)
        case .dense(var d):
            for i in d.weights.data.indices { d.weights.data[i] *= f[i % d.outFeatures] }
            for o in d.bias.indices { d.bias[o] *= f[o] }
            return .dense(d)
        default:
            return op
        }
    }

    static func scaleConsumer(_ op: Op, by f: [Float]) -> Op {
        switch op {
        case .conv2D(var c):
            for i in c.weights.data.indices { c.weights.data[i] *= f[(i / c.outChannels) % c.inChannels] }
            return .conv2D(c)
        case .depthwiseConv2D(var c):
            for i in c.weights.data.indices { c.weights.data[i] *= f[(i / c.multiplier) % c.inChannels] }
            return .depthwiseConv2D(c)
        case .dense(var d):
            for i in d.weights.data.indices { d.weights.data[i] *= f[i / d.outFeatures] }
            return .dense(d)
        default:
            return op
        }
    }
}
