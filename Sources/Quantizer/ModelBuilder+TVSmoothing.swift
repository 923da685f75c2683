import FixedPoint
import QBin
import QCore

extension ModelBuilder {
    /// A `TVSmoothing` node as a `tvSmoothing` op (docs/qbin-format.md 5.1): the flow in fixed point on
    /// `u = (q_x - zin) 2^F`, `F = 23 - bits(x)`, then a requantize to the output's own encoding (its
    /// range calibrated on the smoothed map). `G = round(gamma 2^F / s_x)`, `E = max(1, round(eps (2^F / s_x)^2))`.
    mutating func lowerTVSmoothing(_ i: Int, _ tv: TVSmoothing, bits: Int) throws(QuantizerError) {
        let node = graph.nodes[i]
        let x = input(i)
        func refuse(_ reason: String) -> QuantizerError { .unsupportedLayer(name: node.name, op: node.op.name, reason: reason) }
        let fractionBits = TVSmoothingLimits.maxInputBits - x.params.type.bits
        let unit = Double(x.params.scale) / Double(Int64(1) << fractionBits) // one step of u, in real units
        let gamma = (Double(tv.gamma) / unit).rounded(.toNearestOrAwayFromZero)
        guard Double(tv.steps) * gamma <= Double(TVSmoothingLimits.maxGammaTotal) else {
            throw refuse("steps * gamma = \(tv.steps) * \(tv.gamma) is \(Int(Double(tv.steps) * gamma / Double(1 << fractionBits))) input steps; the integer op allows up to 2^\(26 - fractionBits) (lower gamma or steps)")
        }
        let epsilon = Swift.max(1, (Double(tv.epsilon) / (unit * unit)).rounded(.toNearestOrAwayFromZero))
        guard epsilon <= Double(TVSmoothingLimits.maxEpsilon) else {
            throw refuse("eps \(tv.epsilon) is \(epsilon) in the op's units; the integer op allows up to 2^60 (sqrt(eps) far above the input's range)")
        }
        let p = try outputParams(i, bits: bits)
        let m = try quantizer.multiplier(unit / Double(p.scale), layer: node.name)
        let t = addOutput(i, p)
        model.ops.append(QOp(kind: .tvSmoothing, name: node.name, inputs: [x.tensor], outputs: [t], attributes: [
            QAttribute("steps", [Int32(tv.steps)]), QAttribute("fraction_bits", [Int32(fractionBits)]),
            QAttribute("gamma", [Int32(gamma)]), QAttribute("epsilon", TVSmoothingLimits.halves(Int64(epsilon))),
            QAttribute("multiplier", [m.multiplier]), QAttribute("shift", [m.shift]), QAttribute("clamp", clamp(i, p)),
        ]))
        record(i, kind: .tvSmoothing, tensor: t, p: p)
    }
}
