import QCore

/// Bias absorption (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization and Bias
/// Correction", section 4.2): for a weighted op A whose only reader is a weighted op B (the pairs
/// cross-layer equalization finds, `CrossLayerEqualization.pairs`), move a per-channel amount `c_i`
/// out of A's output into B's bias:
///
///     b_A[i] -= c_i        b_B[o] += sum_{taps, i} W_B[tap, i, o] * c_i
///
/// so the tensor between them holds `h_i - c_i` and B computes the same values.
///
/// - A with a ReLU: `relu(z - c) = relu(z) - c` exactly where `z >= c >= 0`. With `c_i` the least
///   value channel `i` took on the calibration data (after the ReLU: `max(0, min z_i)`), the rewrite is
///   exact on every calibration sample; an input whose pre-activation falls below `c_i` gets `c_i`
///   instead of `relu(z_i)`. (Nagel's data-free choice is `max(0, beta - 3 gamma)` from the BatchNorm;
///   this converter measures rewrites on calibration data only, so it uses the observed minimum.)
/// - A with a linear activation: any shift is exact; each channel is centred, `c_i = (min_i + max_i) / 2`.
///
/// Why: a per-tensor activation grid spans the union of all channels' ranges. A channel that never
/// goes below a large positive value (common after equalization scales a channel up) stretches the
/// grid over values no sample takes; shifted, every channel starts at 0 (ReLU) or is centred
/// (linear), and the grid never gets wider.
///
/// Zero padding is where the shift stops being exact: a padded tap reads 0, which stood for 0 before and
/// stands for `-c_i` after. A per-output-channel bias cannot hold a border-dependent correction, so
/// pairs where B pads with zeros, or a `ZeroPadding2D` lies between, are declined (unless every
/// `c_i` is 0). Max pooling and average pooling (which averages only the pixels inside the input)
/// commute with a per-channel shift.
public enum BiasAbsorption {
    public struct Pair: Sendable, Equatable {
        public var producer: String
        public var consumer: String
        /// The node indices whose values the rewrite shifts by `shifts` per channel: A and any pooling
        /// between A and B.
        public var shiftedNodes: [Int]
        /// `c_i` per channel of A's output.
        public var shifts: [Float]
    }

    public struct Declined: Sendable, Equatable {
        public var producer: String
        public var consumer: String
        public var reason: String
    }

    /// The rewritten graph (same nodes, names and shapes; only biases differ), the pairs it changed and
    /// those it declined. `ranges(node)` gives the per-channel least and largest value of `node`'s output
    /// over the calibration data (nil: unknown, the pair is skipped).
    public static func absorb(_ graph: Graph, ranges: (Int) -> (mins: [Float], maxs: [Float])?)
        -> (graph: Graph, pairs: [Pair], declined: [Declined]) {
        var g = graph
        var pairs: [Pair] = []
        var declined: [Declined] = []
        for (a, through, b) in CrossLayerEqualization.pairs(graph) {
            guard let r = ranges(a), let activation = activation(g.nodes[a].op) else { continue }
            let shifts: [Float] = zip(r.mins, r.maxs).map { lo, hi in
                guard lo.isFinite, hi.isFinite else { return 0 }
                return activation == .relu ? max(0, lo) : (lo + hi) / 2
            }
            guard shifts.contains(where: { $0 != 0 }) else {
                declined.append(Declined(producer: g.nodes[a].name, consumer: g.nodes[b].name,
                                         reason: "every channel reached 0 on the calibration data: no offset to move"))
                continue
            }
            let padded = ModelBuilder.hasZeroPadding(g.nodes[b].op)
                || through.contains { if case .zeroPadding2D = g.nodes[$0].op { return true } else { return false } }
            if padded {
                declined.append(Declined(producer: g.nodes[a].name, consumer: g.nodes[b].name,
                                         reason: "the reader pads with zeros, which would stand for -c after the shift: not exact at the borders"))
                continue
            }
            g.nodes[a].op = shiftProducer(g.nodes[a].op, by: shifts)
            g.nodes[b].op = absorbConsumer(g.nodes[b].op, shifts: shifts)
            pairs.append(Pair(producer: g.nodes[a].name, consumer: g.nodes[b].name, shiftedNodes: [a] + through, shifts: shifts))
        }
        return (g, pairs, declined)
    }

    /// A's activation when the shift passes through it (linear or ReLU), else nil.
    static func activation(_ op: Op) -> Activation? {
        let act: Activation
        switch op {
        case .conv2D(let c): act = c.activation
        case .depthwiseConv2D(let c): act = c.activation
        case .dense(let d): act = d.activation
        default: return nil
        }
        return act == .linear || act == .relu ? act : nil
    }

    /// `b_A[i] -= c_i`.
    static func shiftProducer(_ op: Op, by c: [Float]) -> Op {
        switch op {
        case .conv2D(var x):
            for o in x.bias.indices { x.bias[o] -= c[o] }
            return .conv2D(x)
        case .depthwiseConv2D(var x):
            for o in x.bias.indices { x.bias[o] -= c[o] }
            return .depthwiseConv2D(x)
        case .dense(var x):
            for o in x.bias.indices { x.bias[o] -= c[o] }
            return .dense(x)
        default:
            return op
        }
    }

    /// `b_B[o] += sum W_B[tap, i, o] c_i`, accumulated in Double (the sum runs over every tap and input channel).
    static func absorbConsumer(_ op: Op, shifts c: [Float]) -> Op {
        func sums(_ count: Int, _ w: [Float], output: (Int) -> Int, input: (Int) -> Int) -> [Double] {
            var sums = [Double](repeating: 0, count: count)
            for i in w.indices { sums[output(i)] += Double(w[i]) * Double(c[input(i)]) }
            return sums
        }
        func add(_ bias: inout [Float], _ sums: [Double]) {
            for o in bias.indices { bias[o] = Float(Double(bias[o]) + sums[o]) }
        }
        switch op {
        case .conv2D(var x):
            // HWIO: output channel fastest, then input channel.
            let (outC, inC) = (x.outChannels, x.inChannels)
            let correction = sums(x.bias.count, x.weights.data, output: { $0 % outC }, input: { ($0 / outC) % inC })
            add(&x.bias, correction)
            return .conv2D(x)
        case .depthwiseConv2D(var x):
            // [kh, kw, in, multiplier]: output channel `in * multiplier + m`.
            let (outC, inC, m) = (x.outChannels, x.inChannels, x.multiplier)
            let correction = sums(x.bias.count, x.weights.data, output: { $0 % outC }, input: { ($0 / m) % inC })
            add(&x.bias, correction)
            return .depthwiseConv2D(x)
        case .dense(var x):
            // [in, out].
            let outF = x.outFeatures
            let correction = sums(x.bias.count, x.weights.data, output: { $0 % outF }, input: { $0 / outF })
            add(&x.bias, correction)
            return .dense(x)
        default:
            return op
        }
    }
}
