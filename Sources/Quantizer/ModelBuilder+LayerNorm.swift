import FixedPoint
import QBin
import QCore

extension ModelBuilder {
    /// `LayerNorm` as a `layerNorm` op (docs/numerics.md, "Layer normalization"): the row is normalized
    /// in fixed point to `n` (`F` fraction bits, `|n| <= 2^F sqrt(C)`), then `gamma`, `beta` act as a
    /// per-channel affine on `n`, quantized as `channelAffine`'s scale and offset for an input of scale
    /// `2^-F`. `F` is the largest (at most 24) that keeps `|n| * 127` within 2^30.
    mutating func lowerLayerNorm(_ i: Int, _ norm: LayerNorm, bits: Int) throws(QuantizerError) {
        let node = graph.nodes[i]
        try Self.checkFinite(norm.gamma, layer: node.name, what: "gamma")
        try Self.checkFinite(norm.beta, layer: node.name, what: "beta")
        let x = input(i)
        let channels = norm.channels
        guard x.params.type.bits <= LayerNormLimits.maxInputBits, channels <= LayerNormLimits.maxChannels else {
            throw .unsupportedLayer(name: node.name, op: node.op.name,
                                    reason: "a \(x.params.type.bits)-bit input of \(channels) channels is outside layerNorm's limits "
                                        + "(\(LayerNormLimits.maxInputBits) bits, \(LayerNormLimits.maxChannels) channels)")
        }
        let p = try outputParams(i, bits: bits)
        let maxNormalized = Double(channels).squareRoot()
        let room: Double = 1_073_741_824 / (127 * maxNormalized)
        let fractionBits: Int = Swift.min(24, Swift.max(0, Int(room.exponent))) // floor(log2(room))
        let unit: Double = Double(Int64(1) << Int64(fractionBits))
        let maxN: Int64 = Int64((maxNormalized * unit).rounded(.up)) + 1
        let q = try affineConstants(i, scale: norm.gamma, offset: norm.beta, inputScale: 1 / unit,
                                    maxInput: maxN, outputScale: Double(p.scale))
        // E = C^2 epsilon / s_x^2: epsilon in the units of V = C^2 var(q).
        let sx = Double(x.params.scale)
        let e = (Double(channels * channels) * Double(norm.epsilon) / (sx * sx)).rounded(.toNearestOrAwayFromZero)
        let epsilon = e >= Double(LayerNormLimits.maxEpsilon) ? LayerNormLimits.maxEpsilon : Swift.max(0, Int64(e))
        let gt = model.addTensor(.constant(node.name + "/gamma", shape: [channels], type: .signed(8)!, scales: q.sa, values: q.qa))
        let bt = model.addTensor(.constant(node.name + "/beta", shape: [channels], type: .int32, scales: q.sb, values: q.qb))
        let t = addOutput(i, p)
        model.ops.append(QOp(kind: .layerNorm, name: node.name, inputs: [x.tensor, gt, bt], outputs: [t],
                             attributes: [QAttribute("fraction_bits", [Int32(fractionBits)]),
                                          QAttribute("epsilon", LayerNormLimits.halves(epsilon)),
                                          QAttribute("multiplier", q.multipliers), QAttribute("shift", q.shifts),
                                          QAttribute("clamp", clamp(i, p))]))
        record(i, kind: .layerNorm, tensor: t, p: p, weightBits: 8, weightRounding: "nearest")
    }
}
