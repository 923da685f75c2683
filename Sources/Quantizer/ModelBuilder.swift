import FixedPoint
import QBin
import QCore

/// The lowering pass of `Quantizer`: walks the canonical graph in order and appends tensors and ops.
struct ModelBuilder {
    let quantizer: Quantizer
    var graph: Graph { quantizer.graph }
    var model = QModel()
    /// Model tensor of each canonical node.
    var tensorOf: [Int?]
    /// Encoding of each node's output (pass-through nodes share their input's).
    var params: [ActivationParameters?]
    var layers: [LayerQuantization] = []
    var calibrationMethods: [(String, String)] = []
    var warnings: [String] = []
    /// Rewrites considered while lowering (applied or declined, with the reason), in order.
    var rewrites: [RewriteRecord] = []
    var outputActivation: Activation?
    /// `fusedReLU[i] = j`: node j is a ReLU / ReLU6 that is node i's sole consumer and becomes i's clamp.
    let fusedReLU: [Int: Int]
    let consumerCount: [Int]

    init(quantizer: Quantizer) {
        self.quantizer = quantizer
        let graph = quantizer.graph
        tensorOf = [Int?](repeating: nil, count: graph.nodes.count)
        params = [ActivationParameters?](repeating: nil, count: graph.nodes.count)
        var count = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for i in node.inputs { count[i] += 1 } }
        for o in graph.outputs { count[o] += 2 }
        consumerCount = count
        var fused: [Int: Int] = [:]
        for (j, node) in graph.nodes.enumerated() {
            guard case .activation(let a) = node.op, a == .relu || a == .relu6 else { continue }
            let p = node.inputs[0]
            switch graph.nodes[p].op {
            case .add, .subtract, .multiply, .batchNorm, .rescaling:
                if count[p] == 1 { fused[p] = j }
            default: break
            }
        }
        fusedReLU = fused
    }

    mutating func build() throws(QuantizerError) {
        for (i, node) in graph.nodes.enumerated() {
            if fusedReLU.values.contains(i) {
                tensorOf[i] = tensorOf[node.inputs[0]]
                params[i] = params[node.inputs[0]]
                continue
            }
            try lower(i)
        }
        model.inputs = graph.inputs.map { tensorOf[$0]! }
        model.outputs = try graph.outputs.map { (o: Int) throws(QuantizerError) -> Int in
            guard let t = tensorOf[o] else { throw .unsupportedLayer(name: graph.nodes[o].name, op: graph.nodes[o].op.name, reason: "output without a tensor") }
            return t
        }
        // A softmax left to the edge shares its input's tensor for the outputs, but its float value
        // (probabilities) is not what that tensor holds (logits).
        for (i, node) in graph.nodes.enumerated() {
            if case .activation(.softmax) = node.op { tensorOf[i] = nil }
        }
    }

    // MARK: helpers

    mutating func addRewrite(_ r: RewriteRecord) { rewrites.append(r) }

    /// The encoding of node `i`'s output (from the fused ReLU's statistics when it has one).
    mutating func outputParams(_ i: Int, bits: Int) throws(QuantizerError) -> ActivationParameters {
        let source = fusedReLU[i] ?? i
        let r = try quantizer.range(of: source, bits: bits)
        var low = r.low
        if case .activation(let a) = graph.nodes[source].op, a == .relu || a == .relu6 { low = 0 }
        if let a = GraphCanonicalizer.fusedActivation(of: graph.nodes[i].op), a == .relu || a == .relu6 { low = 0 }
        return ActivationParameters(low: low, high: r.high, bits: bits, method: r.method)
    }

    /// ReLU / ReLU6 clamp of node `i` (its own fused activation or a fused ReLU node after it).
    func clamp(_ i: Int, _ p: ActivationParameters) -> [Int32] {
        var activation = GraphCanonicalizer.fusedActivation(of: graph.nodes[i].op) ?? .linear
        if let j = fusedReLU[i], case .activation(let a) = graph.nodes[j].op { activation = a }
        return p.clamp(relu: activation == .relu, relu6: activation == .relu6)
    }

    /// Adds node `i`'s output tensor with encoding `p` and records it.
    mutating func addOutput(_ i: Int, _ p: ActivationParameters) -> Int {
        let name = graph.nodes[fusedReLU[i] ?? i].name
        let t = model.addTensor(p.tensor(name, shape: graph.nodes[i].shape))
        tensorOf[i] = t
        params[i] = p
        if let j = fusedReLU[i] { tensorOf[j] = t; params[j] = p }
        calibrationMethods.append((name, p.method))
        return t
    }

    func input(_ i: Int, _ k: Int = 0) -> (tensor: Int, params: ActivationParameters) {
        let p = graph.nodes[i].inputs[k]
        return (tensorOf[p]!, params[p]!)
    }

    mutating func record(_ i: Int, kind: QOpKind, tensor: Int, p: ActivationParameters, weightBits: Int? = nil,
                         weightSQNR: Double? = nil, bound: Int64? = nil, weightRounding: String? = nil) {
        var fused: [String] = []
        if let j = fusedReLU[i] { fused.append(graph.nodes[j].name) }
        layers.append(LayerQuantization(
            name: graph.nodes[i].name, node: i, kind: kind, tensor: tensor, weightBits: weightBits,
            activationBits: p.type.bits, granularity: weightBits == nil ? nil : quantizer.recipe.granularity,
            weightSQNR: weightSQNR, clipLow: p.low, clipHigh: p.high, clipMethod: p.method,
            accumulatorBound: bound, fused: fused, bitsReason: quantizer.bitsAndReason(of: i).reason,
            weightRounding: weightRounding))
    }

    // MARK: lowering

    mutating func lower(_ i: Int) throws(QuantizerError) {
        let node = graph.nodes[i]
        let bits = quantizer.bits(of: i)
        switch node.op {
        case .input:
            let p = try outputParams(i, bits: bits.activations)
            _ = addOutput(i, p)
        case .conv2D, .depthwiseConv2D, .conv2DTranspose, .dense:
            try lowerWeighted(i, bits: bits)
        case .batchNorm(let bn):
            let (scale, shift) = bn.scaleAndShift
            try lowerAffine(i, scale: scale, offset: shift, bits: bits.activations)
        case .layerNorm(let norm):
            try lowerLayerNorm(i, norm, bits: bits.activations)
        case .rescaling(let scale, let offset):
            let channels = node.shape.last ?? 1
            let s = scale.count == 1 ? [Float](repeating: scale[0], count: channels) : scale
            let o = offset.count == 1 ? [Float](repeating: offset[0], count: channels) : offset
            try lowerAffine(i, scale: s, offset: o, bits: bits.activations)
        case .activation(let a):
            try lowerActivation(i, a, bits: bits.activations)
        case .add, .subtract:
            try lowerAdd(i, subtract: node.op == .subtract, bits: bits.activations)
        case .multiply:
            let p = try outputParams(i, bits: bits.activations)
            let x0 = input(i, 0), x1 = input(i, 1)
            let m = try quantizer.multiplier(Double(x0.params.scale) * Double(x1.params.scale) / Double(p.scale), layer: node.name)
            let t = addOutput(i, p)
            model.ops.append(QOp(kind: .multiply, name: node.name, inputs: [x0.tensor, x1.tensor], outputs: [t],
                                 attributes: [QAttribute("multiplier", [m.multiplier]), QAttribute("shift", [m.shift]),
                                              QAttribute("clamp", clamp(i, p))]))
            record(i, kind: .multiply, tensor: t, p: p)
        case .concatenate(let axis):
            let p = try outputParams(i, bits: bits.activations)
            var multipliers: [Int32] = [], shifts: [Int32] = []
            for k in node.inputs.indices {
                let m = try quantizer.multiplier(Double(input(i, k).params.scale) / Double(p.scale), layer: node.name)
                multipliers.append(m.multiplier); shifts.append(m.shift)
            }
            let t = addOutput(i, p)
            model.ops.append(QOp(kind: .concatenate, name: node.name, inputs: node.inputs.indices.map { input(i, $0).tensor },
                                 outputs: [t], attributes: [QAttribute("axis", [Int32(axis)]),
                                                            QAttribute("input_multiplier", multipliers),
                                                            QAttribute("input_shift", shifts)]))
            record(i, kind: .concatenate, tensor: t, p: p)
        case .maxPool2D(let pool), .averagePool2D(let pool):
            let g = pool.geometry
            var attributes = [QAttribute("kernel", [Int32(g.kernelH), Int32(g.kernelW)]),
                              QAttribute("stride", [Int32(g.strideH), Int32(g.strideW)]),
                              QAttribute("padding", [g.padding.top, g.padding.bottom, g.padding.left, g.padding.right].map { Int32($0) })]
            let isMax: Bool
            if case .maxPool2D = node.op { isMax = true } else { isMax = false }
            if !isMax { attributes.append(QAttribute("clamp", fullRange(input(i).params))) }
            passThrough(i, kind: isMax ? .maxPool2D : .averagePool2D, attributes: attributes)
        case .globalAveragePool2D:
            passThrough(i, kind: .globalAveragePool2D, attributes: [QAttribute("clamp", fullRange(input(i).params))])
        case .globalMaxPool2D:
            passThrough(i, kind: .globalMaxPool2D, attributes: [])
        case .flatten:
            passThrough(i, kind: .flatten, attributes: [])
        case .reshape:
            passThrough(i, kind: .reshape, attributes: [QAttribute("shape", node.shape.map { Int32($0) })])
        case .zeroPadding2D(let pad):
            passThrough(i, kind: .zeroPadding2D, attributes: [QAttribute("padding", [pad.top, pad.bottom, pad.left, pad.right].map { Int32($0) })])
        case .registered(let r):
            guard let op = r.op as? any QuantizedFormOp else {
                throw .unsupportedLayer(name: node.name, op: node.op.name, reason: "registered without a quantized form (docs/op-registry.md)")
            }
            var lowering = OpLowering(builder: self, node: i, bits: bits.activations)
            try op.lower(&lowering)
            self = lowering.builder
        case .identity:
            tensorOf[i] = input(i).tensor
            params[i] = input(i).params
        }
    }

    func fullRange(_ p: ActivationParameters) -> [Int32] { [Int32(p.type.minValue), Int32(p.type.maxValue)] }

    /// An op whose output keeps its input's encoding (no rescale in integer arithmetic).
    mutating func passThrough(_ i: Int, kind: QOpKind, attributes: [QAttribute]) {
        let x = input(i)
        let node = graph.nodes[i]
        let t = model.addTensor(x.params.tensor(node.name, shape: node.shape))
        tensorOf[i] = t
        params[i] = x.params
        model.ops.append(QOp(kind: kind, name: node.name, inputs: [x.tensor], outputs: [t], attributes: attributes))
        record(i, kind: kind, tensor: t, p: x.params)
    }
}
