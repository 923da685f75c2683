import Foundation
import QBin
import QCore

/// A weighted op's weights in the `.qbin` layout (axis 0 = output channel) and which input channel each
/// weight of a row reads (for bias correction; nil where the taps of a row do not map to one channel).
struct WeightLayout {
    var kind: QOpKind
    var shape: [Int]
    /// `[C, rowLength]` row-major.
    var rows: [Float]
    var channels: Int
    var bias: [Float]
    var attributes: [QAttribute]
    var inputChannel: ((_ row: Int, _ tap: Int) -> Int)?
    /// Which `InputCovariance` matrix a row's inputs follow (conv: its group, depthwise: its input
    /// channel, dense: 0); nil where there is none (transposed conv).
    var covarianceIndex: ((_ row: Int) -> Int)?

    init(_ op: Op) {
        func window(_ g: ConvGeometry) -> [QAttribute] {
            [QAttribute("kernel", [Int32(g.kernelH), Int32(g.kernelW)]),
             QAttribute("stride", [Int32(g.strideH), Int32(g.strideW)]),
             QAttribute("dilation", [Int32(g.dilationH), Int32(g.dilationW)]),
             QAttribute("padding", [g.padding.top, g.padding.bottom, g.padding.left, g.padding.right].map { Int32($0) })]
        }
        switch op {
        case .conv2D(let c):
            // Keras [kh, kw, cin/g, out] -> OHWI [out, kh, kw, cin/g].
            let (kh, kw, cinG, out) = (c.weights.shape[0], c.weights.shape[1], c.weights.shape[2], c.weights.shape[3])
            let row = kh * kw * cinG
            var r = [Float](repeating: 0, count: out * row)
            for o in 0..<out { for j in 0..<row { r[o * row + j] = c.weights.data[j * out + o] } }
            let perGroup = out / c.groups
            self.init(kind: .conv2D, shape: [out, kh, kw, cinG], rows: r, channels: out, bias: c.bias,
                      attributes: window(c.geometry) + [QAttribute("groups", [Int32(c.groups)])],
                      inputChannel: { o, j in (o / perGroup) * cinG + j % cinG }, covarianceIndex: { $0 / perGroup })
        case .depthwiseConv2D(let c):
            // Keras [kh, kw, in, mult] -> [in * mult, kh, kw]; output channel ch reads input ch / mult.
            let (kh, kw, cin, mult) = (c.weights.shape[0], c.weights.shape[1], c.weights.shape[2], c.weights.shape[3])
            let out = cin * mult, row = kh * kw
            var r = [Float](repeating: 0, count: out * row)
            for ch in 0..<out { for j in 0..<row { r[ch * row + j] = c.weights.data[j * out + ch] } }
            self.init(kind: .depthwiseConv2D, shape: [out, kh, kw], rows: r, channels: out, bias: c.bias,
                      attributes: window(c.geometry) + [QAttribute("depth_multiplier", [Int32(mult)])],
                      inputChannel: { ch, _ in ch / mult }, covarianceIndex: { $0 / mult })
        case .conv2DTranspose(let c):
            // Keras [kh, kw, out, in] -> [out, kh, kw, in]. Each output pixel sees a varying number of
            // taps, so no per-row input channel map (no bias correction).
            let (kh, kw, out, cin) = (c.weights.shape[0], c.weights.shape[1], c.weights.shape[2], c.weights.shape[3])
            let row = kh * kw * cin
            var r = [Float](repeating: 0, count: out * row)
            for o in 0..<out {
                for k in 0..<(kh * kw) { for i in 0..<cin { r[o * row + k * cin + i] = c.weights.data[(k * out + o) * cin + i] } }
            }
            self.init(kind: .conv2DTranspose, shape: [out, kh, kw, cin], rows: r, channels: out, bias: c.bias,
                      attributes: window(c.geometry) + [QAttribute("output_size", [Int32(c.outputH), Int32(c.outputW)])],
                      inputChannel: nil, covarianceIndex: nil)
        case .dense(let d):
            let (cin, out) = (d.weights.shape[0], d.weights.shape[1])
            var r = [Float](repeating: 0, count: out * cin)
            for o in 0..<out { for i in 0..<cin { r[o * cin + i] = d.weights.data[i * out + o] } }
            self.init(kind: .dense, shape: [out, cin], rows: r, channels: out, bias: d.bias, attributes: [],
                      inputChannel: { _, j in j }, covarianceIndex: { _ in 0 })
        default:
            preconditionFailure("WeightLayout of a non-weighted op")
        }
    }

    private init(kind: QOpKind, shape: [Int], rows: [Float], channels: Int, bias: [Float], attributes: [QAttribute],
                 inputChannel: ((Int, Int) -> Int)?, covarianceIndex: ((Int) -> Int)?) {
        self.kind = kind; self.shape = shape; self.rows = rows; self.channels = channels
        self.bias = bias; self.attributes = attributes; self.inputChannel = inputChannel
        self.covarianceIndex = covarianceIndex
    }
}

extension ModelBuilder {
    mutating func lowerWeighted(_ i: Int, bits: (weights: Int, activations: Int)) throws(QuantizerError) {
        let node = graph.nodes[i]
        let recipe = quantizer.recipe
        var layout = WeightLayout(node.op)
        try Self.checkFinite(layout.rows, layer: node.name, what: "weights")
        try Self.checkFinite(layout.bias, layer: node.name, what: "bias")
        moveConstantInputsToBias(i, &layout)
        let x = input(i)
        let perChannel = recipe.granularity == .perChannel
        var gptq: [GPTQ?] = []
        if recipe.usesGPTQ(depthwise: layout.kind == .depthwiseConv2D, bits: bits.weights), let covariance = quantizer.inputCovariances[i],
           layout.covarianceIndex != nil {
            let step = Double(x.params.scale)
            let noise = step * step / 12
            gptq = (0..<covariance.count).map { GPTQ(hessian: covariance.matrix($0), size: covariance.size, inputNoise: noise) }
        }
        var wq = WeightQuantizer(bits: bits.weights, perChannel: perChannel, mseClip: bits.weights < recipe.weightMSEClipBelowBits)
            .quantize(layout.rows, channels: layout.channels) { row in
                guard let index = layout.covarianceIndex?(row), gptq.indices.contains(index) else { return nil }
                return gptq[index]
            }
        let rowLength = layout.rows.count / layout.channels
        let weightScale = { (wq: WeightQuantizer.Result, c: Int) -> Double in Double(perChannel ? wq.scales[c] : wq.scales[0]) }
        let sx = Double(x.params.scale)
        let zx = Int64(x.params.zeroPoint)
        let maxX = Swift.max(zx - x.params.type.minValue, x.params.type.maxValue - zx)

        // Raise the weight scale of any channel whose accumulator bound exceeds int32 (format section 5.3).
        var biasValues: [Int32] = [], biasScales: [Float] = [], widened = Set<Int>()
        for attempt in 0... {
            let rounded: [Double]
            (biasValues, biasScales, rounded) = quantizedBias(layout, wq, rowLength: rowLength, inputNode: node.inputs[0], sx: sx,
                                                              weightScale: { weightScale(wq, $0) })
            let fit = AccumulatorFit(products: rowLength, maxInput: maxX)
            let over = fit.channelsOver(weights: wq.values, bias: rounded, channels: layout.channels)
            if over.isEmpty { break }
            guard attempt < AccumulatorFit.maxAttempts else {
                throw .unsupportedLayer(name: node.name, op: "\(layout.kind)", reason: "no weight scale keeps its int32 accumulator bound under 2^31 - 1 (\(rowLength) products of inputs up to \(maxX))")
            }
            widened.formUnion(perChannel ? over.map(\.channel) : [0])
            wq = fit.widened(wq, rows: layout.rows, channels: layout.channels, over: over, perChannel: perChannel, bits: bits.weights)
        }
        if !widened.isEmpty {
            warnings.append("layer '\(node.name)': weight scale raised on \(perChannel ? "\(widened.count) of \(layout.channels) channels" : "the tensor") so that the int32 accumulator bound fits (input scale \(Float(sx)) is small for the bias)")
        }

        var p = try outputParams(i, bits: bits.activations)
        if recipe.wideOutput, producesGraphOutput(i) { p = .wide(low: p.low, high: p.high, method: p.method) }
        var multipliers: [Int32] = [], shifts: [Int32] = []
        for c in 0..<(perChannel ? layout.channels : 1) {
            let m = try quantizer.multiplier(sx * weightScale(wq, c) / Double(p.scale), layer: node.name)
            multipliers.append(m.multiplier); shifts.append(m.shift)
        }

        let weights = model.addTensor(.constant(node.name + "/weights", shape: layout.shape, type: .signed(bits.weights)!,
                                                scales: wq.scales, values: wq.values))
        var inputs = [x.tensor, weights]
        if biasValues.contains(where: { $0 != 0 }) {
            let scales = perChannel ? biasScales : [biasScales[0]]
            inputs.append(model.addTensor(.constant(node.name + "/bias", shape: [layout.channels], type: .int32,
                                                    scales: scales, values: biasValues)))
        }
        let t = addOutput(i, p)
        let c = clamp(i, p)
        model.ops.append(QOp(kind: layout.kind, name: node.name, inputs: inputs, outputs: [t],
                             attributes: layout.attributes + [QAttribute("multiplier", multipliers), QAttribute("shift", shifts),
                                                              QAttribute("clamp", c)]))

        let bound = AccumulatorFit(products: rowLength, maxInput: maxX).bound(weights: wq.values, bias: biasValues, channels: layout.channels)
        let rounded = gptq.contains { $0 != nil } ? "gptq" : "nearest"
        record(i, kind: layout.kind, tensor: t, p: p, weightBits: bits.weights, weightSQNR: wq.sqnrDB, bound: bound, weightRounding: rounded)
    }

    /// The bias after empirical bias correction (`E[y_q - y] = sum_j (w_q - w)[c, j] * E[x_channel(j)]`),
    /// as int32 at scale `s_x * s_w[c]` (clamped to +-(2^31 - 1)), those scales, and the rounded values
    /// before the clamp.
    func quantizedBias(_ layout: WeightLayout, _ wq: WeightQuantizer.Result, rowLength: Int, inputNode: Int, sx: Double,
                       weightScale: (Int) -> Double) -> (values: [Int32], scales: [Float], rounded: [Double]) {
        var bias = layout.bias.map(Double.init)
        if quantizer.recipe.biasCorrection, let map = layout.inputChannel,
           let means = quantizer.statistics.indices.contains(inputNode) ? quantizer.statistics[inputNode]?.channelMeans : nil {
            for c in 0..<layout.channels {
                var shift = 0.0
                for j in 0..<rowLength {
                    let k = map(c, j)
                    guard k < means.count else { continue }
                    shift += Double(wq.dequantized[c * rowLength + j] - layout.rows[c * rowLength + j]) * means[k]
                }
                bias[c] -= shift
            }
        }
        var values = [Int32](repeating: 0, count: layout.channels)
        var scales = [Float](repeating: 1, count: layout.channels)
        var rounded = [Double](repeating: 0, count: layout.channels)
        for c in 0..<layout.channels {
            let s = sx * weightScale(c)
            scales[c] = Float(s)
            rounded[c] = (bias[c] / s).rounded(.toNearestOrAwayFromZero)
            values[c] = Self.saturatingInt32(rounded[c])
        }
        return (values, scales, rounded)
    }

    /// True when node `i`'s value is a graph output, directly or through a final softmax left to the edge.
    func producesGraphOutput(_ i: Int) -> Bool {
        if graph.outputs.contains(i) { return true }
        let readers = graph.nodes.indices.filter { graph.nodes[$0].inputs.contains(i) }
        guard readers.count == 1, consumerCount[i] == 1, case .activation(.softmax) = graph.nodes[readers[0]].op else { return false }
        return graph.outputs.contains(readers[0])
    }

    /// A per-channel affine `y = a[c] x + b[c]` (unfolded BatchNorm, Rescaling) as `channelAffine`: `a`
    /// stored exactly as `±127` at scale `|a[c]| / 127`, `b` as int32 at scale `s_x * s_a[c]`.
    mutating func lowerAffine(_ i: Int, scale a: [Float], offset b: [Float], bits: Int) throws(QuantizerError) {
        let node = graph.nodes[i]
        try Self.checkFinite(a, layer: node.name, what: "scale")
        try Self.checkFinite(b, layer: node.name, what: "offset")
        let x = input(i)
        let p = try outputParams(i, bits: bits)
        let zx = Int64(x.params.zeroPoint)
        let maxX = Swift.max(zx - x.params.type.minValue, x.params.type.maxValue - zx)
        let q = try affineConstants(i, scale: a, offset: b, inputScale: Double(x.params.scale), maxInput: maxX, outputScale: Double(p.scale))
        let at = model.addTensor(.constant(node.name + "/scale", shape: [a.count], type: .signed(8)!, scales: q.sa, values: q.qa))
        let bt = model.addTensor(.constant(node.name + "/offset", shape: [a.count], type: .int32, scales: q.sb, values: q.qb))
        let t = addOutput(i, p)
        model.ops.append(QOp(kind: .channelAffine, name: node.name, inputs: [x.tensor, at, bt], outputs: [t],
                             attributes: [QAttribute("multiplier", q.multipliers), QAttribute("shift", q.shifts),
                                          QAttribute("clamp", clamp(i, p))]))
        record(i, kind: .channelAffine, tensor: t, p: p, weightBits: 8, weightRounding: "nearest")
    }

    /// The int8 scale `q_a` and int32 offset `q_b` of `acc = x * q_a[c] + q_b[c]` per channel, for an
    /// integer input `x` of scale `inputScale` and magnitude at most `maxInput`, with the multipliers
    /// of `acc * s_x * s_a[c] / s_out`.
    mutating func affineConstants(_ i: Int, scale a: [Float], offset b: [Float], inputScale sx: Double, maxInput maxX: Int64,
                                  outputScale: Double) throws(QuantizerError)
        -> (qa: [Int32], sa: [Float], qb: [Int32], sb: [Float], multipliers: [Int32], shifts: [Int32]) {
        let node = graph.nodes[i]
        let channels = a.count
        var qa = [Int32](repeating: 0, count: channels), sa = [Float](repeating: 1, count: channels)
        var qb = [Int32](repeating: 0, count: channels), sb = [Float](repeating: 1, count: channels)
        var multipliers: [Int32] = [], shifts: [Int32] = []
        let limit = Double(QAccumulatorBound.limit)
        for c in 0..<channels {
            // |q_a| = 127 unless the bound |q_b| + max|q_x - z_x| * |q_a| (both terms ~ |q_a|) exceeds
            // int32: then the largest |q_a| that fits (format section 5.3); 0 when even 1 does not.
            var magnitude: Int64 = a[c] == 0 ? 0 : 127
            var s = 0.0
            while true {
                sa[c] = magnitude > 0 ? abs(a[c]) / Float(magnitude) : Float(Swift.max(1, 2 * abs(Double(b[c])) / (sx * limit)))
                qa[c] = a[c] > 0 ? Int32(magnitude) : -Int32(magnitude)
                s = sx * Double(sa[c])
                sb[c] = Float(s)
                qb[c] = Self.saturatingInt32((Double(b[c]) / s).rounded(.toNearestOrAwayFromZero))
                let bound = abs(Int64(qb[c])) + maxX * magnitude
                if bound <= QAccumulatorBound.limit || magnitude == 0 { break }
                magnitude = Swift.max(0, Swift.min(magnitude - 1, Int64(Double(magnitude) * limit / Double(bound))))
            }
            let m = try quantizer.multiplier(s / outputScale, layer: node.name)
            multipliers.append(m.multiplier); shifts.append(m.shift)
        }
        return (qa, sa, qb, sb, multipliers, shifts)
    }

    /// Residual add / subtract, TFLite's scheme: both inputs to a common fine scale `2 max(s_i) / 2^20`,
    /// summed in int32, then to the output scale.
    mutating func lowerAdd(_ i: Int, subtract: Bool, bits: Int) throws(QuantizerError) {
        let node = graph.nodes[i]
        let p = try outputParams(i, bits: bits)
        let leftShift: Int32 = 20
        let inputs = node.inputs.indices.map { input(i, $0) }
        let twiceMax = 2 * Double(inputs.map(\.params.scale).max()!)
        var multipliers: [Int32] = [], shifts: [Int32] = []
        for x in inputs {
            let m = try quantizer.multiplier(Double(x.params.scale) / twiceMax, layer: node.name)
            multipliers.append(m.multiplier); shifts.append(m.shift)
        }
        let out = try quantizer.multiplier(twiceMax / (Double(1 << leftShift) * Double(p.scale)), layer: node.name)
        let t = addOutput(i, p)
        let kind: QOpKind = subtract ? .subtract : .add
        model.ops.append(QOp(kind: kind, name: node.name, inputs: inputs.map(\.tensor), outputs: [t],
                             attributes: [QAttribute("left_shift", [leftShift]), QAttribute("input_multiplier", multipliers),
                                          QAttribute("input_shift", shifts), QAttribute("output_multiplier", [out.multiplier]),
                                          QAttribute("output_shift", [out.shift]), QAttribute("clamp", clamp(i, p))]))
        record(i, kind: kind, tensor: t, p: p)
    }

    /// Throws naming the first NaN or infinite element: folding can overflow a finite source weight.
    static func checkFinite(_ values: [Float], layer: String, what: String) throws(QuantizerError) {
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteValue(layer: layer, what: what, index: bad, value: Double(values[bad]))
        }
    }

    /// `q` clamped to `±(2^31 - 1)`, NaN to 0 (never a trap; inputs are checked finite first).
    static func saturatingInt32(_ q: Double) -> Int32 {
        q.isNaN ? 0 : Int32(Swift.min(Swift.max(q, -Double(Int32.max)), Double(Int32.max)))
    }
}
