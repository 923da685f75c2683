import QCore

/// Rewrites a float graph into the form the quantizer maps one node to one integer op, computing the
/// same function (up to float rounding of the folded weights):
///
/// - identity nodes (Dropout, GaussianNoise, ...) disappear;
/// - a BatchNorm directly after a conv/depthwise/transposed-conv/dense with a linear activation, whose
///   output only the BatchNorm reads, is folded into its weights and bias
///   (`w' = w * scale[o]`, `b' = b * scale[o] + shift[o]`); other BatchNorms stay (channel affine);
/// - ReLU / ReLU6 standalone activations right after such an op (sole consumer) are fused into it;
/// - fused activations other than ReLU / ReLU6 are split off into their own Activation node, so the
///   quantizer sees the pre-activation tensor and can build a lookup table for the function.
///
/// Calibration runs on the canonical graph, so every tensor the quantizer needs has statistics.
public enum GraphCanonicalizer {
    /// The canonical graph and, for each node of the original graph, the canonical node computing its
    /// value (folded BatchNorms and fused activations map to the op they merged into).
    /// `forwardFold(name)` says whether the BatchNorm `name` may fold forward (`foldForward`); a
    /// conversion asks the calibration data (`FoldSearch`), since the fold is exact in float but can
    /// widen the next layer's weight ranges.
    public static func canonicalize(_ graph: Graph, forwardFold: (String) -> Bool = { _ in true })
        throws(QuantizerError) -> (graph: Graph, nodeMap: [Int]) {
        let first = try rewrite(graph)
        // BatchNorms that could not fold backward (after an activation) fold forward into the next
        // dense / unpadded conv where the path allows it; the second pass removes them.
        var forward = first.graph
        guard !foldForward(&forward, allowed: forwardFold).isEmpty else { return first }
        let second = try rewrite(forward)
        return (second.graph, first.nodeMap.map { second.nodeMap[$0] })
    }

    private static func rewrite(_ graph: Graph) throws(QuantizerError) -> (graph: Graph, nodeMap: [Int]) {
        var consumers = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for i in node.inputs { consumers[i] += 1 } }
        for o in graph.outputs { consumers[o] += 2 } // an output is never merged away

        var nodes: [Node] = []
        var map = [Int](repeating: -1, count: graph.nodes.count)
        for (index, node) in graph.nodes.enumerated() {
            let inputs = node.inputs.map { map[$0] }
            switch node.op {
            case .identity:
                map[index] = inputs[0]
            case .batchNorm(let bn):
                let producer = node.inputs[0]
                if consumers[producer] == 1, let folded = fold(bn, into: nodes[inputs[0]].op) {
                    nodes[inputs[0]].op = folded
                    map[index] = inputs[0]
                } else {
                    map[index] = append(&nodes, Node(name: node.name, sourceClass: node.sourceClass, op: node.op, inputs: inputs))
                }
            case .activation(let activation):
                let fusable = normalized(activation)
                let producer = node.inputs[0]
                if let fusable, fusable == .relu || fusable == .relu6, consumers[producer] == 1,
                   let fused = withActivation(fusable, nodes[inputs[0]].op) {
                    nodes[inputs[0]].op = fused
                    map[index] = inputs[0]
                } else {
                    let op: Op = .activation(fusable ?? activation)
                    map[index] = append(&nodes, Node(name: node.name, sourceClass: node.sourceClass, op: op, inputs: inputs))
                }
            default:
                var op = node.op
                let fused = fusedActivation(of: op)
                var split: Activation?
                if let fused {
                    let n = normalized(fused) ?? fused
                    if n == .linear || n == .relu || n == .relu6 {
                        op = withActivationReplaced(n, op)
                    } else {
                        op = withActivationReplaced(.linear, op)
                        split = n
                    }
                }
                let at = append(&nodes, Node(name: node.name, sourceClass: node.sourceClass, op: op, inputs: inputs, shape: node.shape))
                if let split {
                    map[index] = append(&nodes, Node(name: node.name + "/activation", sourceClass: "Activation",
                                                     op: .activation(split), inputs: [at]))
                } else {
                    map[index] = at
                }
            }
        }
        var result = Graph(nodes: nodes, inputs: graph.inputs.map { map[$0] }, outputs: graph.outputs.map { map[$0] })
        do { try result.inferShapes() } catch { throw .graph(error) }
        return (result, map)
    }

    /// Folds each BatchNorm `y = a[c] x + b[c]` whose value reaches a dense layer only through global
    /// average pooling / flatten (each read by one op), or feeds an unpadded conv directly, into that
    /// layer: `w'[f, o] = a[c(f)] w[f, o]`, `bias'[o] = bias[o] + sum_f b[c(f)] w[f, o]` (exact: those
    /// ops are linear per channel, and no zero padding mixes in). The BatchNorm becomes an identity.
    /// Returns the names of the BatchNorms folded (those `allowed` and possible).
    @discardableResult
    static func foldForward(_ graph: inout Graph, allowed: (String) -> Bool = { _ in true }) -> [String] {
        var readers = [[Int]](repeating: [], count: graph.nodes.count)
        for (i, node) in graph.nodes.enumerated() { for p in node.inputs { readers[p].append(i) } }
        let outputs = Set(graph.outputs)
        var folded: [String] = []
        for j in graph.nodes.indices {
            guard case .batchNorm(let bn) = graph.nodes[j].op, !outputs.contains(j), allowed(graph.nodes[j].name) else { continue }
            var k = j
            var flattenedFrom: [Int]? // the HWC shape a flatten on the path unrolled (channel = f % C)
            var path: [Int] = []
            while readers[k].count == 1, !outputs.contains(k) {
                let next = readers[k][0]
                if case .globalAveragePool2D = graph.nodes[next].op, flattenedFrom == nil { k = next; path.append(next); continue }
                if case .flatten = graph.nodes[next].op { flattenedFrom = graph.nodes[k].shape; k = next; path.append(next); continue }
                k = next
                break
            }
            guard k != j, readers[path.last ?? j].count == 1 else { continue }
            let (scale, shift) = bn.scaleAndShift
            let channels = bn.channels
            switch graph.nodes[k].op {
            case .dense(var d) where graph.nodes[k].inputs == [path.last ?? j]:
                let (features, out) = (d.weights.shape[0], d.weights.shape[1])
                guard flattenedFrom != nil || features == channels else { continue }
                for f in 0..<features {
                    let c = f % channels
                    for o in 0..<out {
                        let w = d.weights.data[f * out + o]
                        d.bias[o] += shift[c] * w
                        d.weights.data[f * out + o] = w * scale[c]
                    }
                }
                d.hasBias = true
                graph.nodes[k].op = .dense(d)
            case .conv2D(var c) where path.isEmpty && c.groups == 1 && c.geometry.padding == .zero && graph.nodes[k].inputs == [j]:
                let (kh, kw, cin, out) = (c.weights.shape[0], c.weights.shape[1], c.weights.shape[2], c.weights.shape[3])
                guard cin == channels else { continue }
                for tap in 0..<(kh * kw) {
                    for i in 0..<cin {
                        for o in 0..<out {
                            let index = (tap * cin + i) * out + o
                            let w = c.weights.data[index]
                            c.bias[o] += shift[i] * w
                            c.weights.data[index] = w * scale[i]
                        }
                    }
                }
                c.hasBias = true
                graph.nodes[k].op = .conv2D(c)
            default:
                continue
            }
            graph.nodes[j].op = .identity
            folded.append(graph.nodes[j].name)
        }
        return folded
    }

    /// The BatchNorms of `graph` that `canonicalize` would fold forward, by name, in graph order.
    public static func forwardFoldCandidates(_ graph: Graph) throws(QuantizerError) -> [String] {
        var first = try rewrite(graph).graph
        return foldForward(&first)
    }

    private static func append(_ nodes: inout [Node], _ node: Node) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    /// ReLU-family activations written as Keras' general ReLU become `.relu` / `.relu6` when they are
    /// exactly those; `.linear` stays; others are returned unchanged; nil never.
    static func normalized(_ a: Activation) -> Activation? {
        if case .generalRelu(let maxValue, let slope, let threshold) = a, slope == 0, threshold == 0 {
            if maxValue == nil { return .relu }
            if maxValue == 6 { return .relu6 }
        }
        return a
    }

    static func fusedActivation(of op: Op) -> Activation? {
        switch op {
        case .conv2D(let c): return c.activation
        case .depthwiseConv2D(let c): return c.activation
        case .conv2DTranspose(let c): return c.activation
        case .dense(let d): return d.activation
        default: return nil
        }
    }

    private static func withActivationReplaced(_ a: Activation, _ op: Op) -> Op {
        switch op {
        case .conv2D(var c): c.activation = a; return .conv2D(c)
        case .depthwiseConv2D(var c): c.activation = a; return .depthwiseConv2D(c)
        case .conv2DTranspose(var c): c.activation = a; return .conv2DTranspose(c)
        case .dense(var d): d.activation = a; return .dense(d)
        default: return op
        }
    }

    /// `op` with activation `a` fused, when `op` is a weighted op whose own activation is linear.
    private static func withActivation(_ a: Activation, _ op: Op) -> Op? {
        guard fusedActivation(of: op) == .linear else { return nil }
        return withActivationReplaced(a, op)
    }

    /// `op` with the BatchNorm's per-channel affine folded into its weights and bias, or nil when `op`
    /// is not a weighted op with a linear activation. The output channel is the last weight axis
    /// (conv, dense), the last two (depthwise: channel c * multiplier + m), or axis 2 (transposed conv).
    static func fold(_ bn: BatchNorm, into op: Op) -> Op? {
        guard fusedActivation(of: op) == .linear else { return nil }
        let (scale, shift) = bn.scaleAndShift
        func foldBias(_ bias: inout [Float], _ hasBias: inout Bool) {
            for o in bias.indices { bias[o] = bias[o] * scale[o] + shift[o] }
            hasBias = true
        }
        switch op {
        case .conv2D(var c):
            guard c.outChannels == bn.channels else { return nil }
            scaleWeights(&c.weights, channels: c.outChannels, inner: 1, scale: scale)
            foldBias(&c.bias, &c.hasBias)
            return .conv2D(c)
        case .depthwiseConv2D(var c):
            guard c.outChannels == bn.channels else { return nil }
            scaleWeights(&c.weights, channels: c.outChannels, inner: 1, scale: scale)
            foldBias(&c.bias, &c.hasBias)
            return .depthwiseConv2D(c)
        case .conv2DTranspose(var c):
            guard c.outChannels == bn.channels else { return nil }
            scaleWeights(&c.weights, channels: c.outChannels, inner: c.inChannels, scale: scale)
            foldBias(&c.bias, &c.hasBias)
            return .conv2DTranspose(c)
        case .dense(var d):
            guard d.outFeatures == bn.channels else { return nil }
            scaleWeights(&d.weights, channels: d.outFeatures, inner: 1, scale: scale)
            foldBias(&d.bias, &d.hasBias)
            return .dense(d)
        default:
            return nil
        }
    }

    /// Multiplies weight `w[..., o, inner]` by `scale[o]` (the output channel axis followed by `inner` values).
    private static func scaleWeights(_ w: inout Tensor, channels: Int, inner: Int, scale: [Float]) {
        for i in w.data.indices {
            w.data[i] *= scale[(i / inner) % channels]
        }
    }
}
