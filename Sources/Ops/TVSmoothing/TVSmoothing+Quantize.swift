import FixedPoint
import QBin
import QCore
import Quantizer

extension TVSmoothing: QuantizedFormOp {
    /// The value it reads stays at >= 8 bits: the op smooths in fixed point and requantizes to its own
    /// (narrower-range) encoding, which is what smoothing buys (docs/tv-smoothing.md).
    public var minimumInputBits: Int? { 8 }

    /// A `tvSmoothing` op (docs/qbin-format.md 5.1): the flow in fixed point on `u = (q_x - zin) 2^F`,
    /// `F = 23 - bits(x)`, then a requantize to the output's own encoding (its range calibrated on the
    /// smoothed map). `G = round(gamma 2^F / s_x)`, `E = max(1, round(eps (2^F / s_x)^2))`.
    public func lower(_ lowering: inout OpLowering) throws(QuantizerError) {
        let x = lowering.input()
        let fractionBits = TVSmoothingLimits.maxInputBits - x.params.type.bits
        let unit = Double(x.params.scale) / Double(Int64(1) << fractionBits) // one step of u, in real units
        let g = (Double(gamma) / unit).rounded(.toNearestOrAwayFromZero)
        guard Double(steps) * g <= Double(TVSmoothingLimits.maxGammaTotal) else {
            throw lowering.refuse("steps * gamma = \(steps) * \(gamma) is \(Int(Double(steps) * g / Double(1 << fractionBits))) input steps; the integer op allows up to 2^\(26 - fractionBits) (lower gamma or steps)")
        }
        let e = Swift.max(1, (Double(epsilon) / (unit * unit)).rounded(.toNearestOrAwayFromZero))
        guard e <= Double(TVSmoothingLimits.maxEpsilon) else {
            throw lowering.refuse("eps \(epsilon) is \(e) in the op's units; the integer op allows up to 2^60 (sqrt(eps) far above the input's range)")
        }
        let p = try lowering.outputParams()
        let m = try lowering.multiplier(unit / Double(p.scale))
        lowering.emit(kind: TVSmoothingKind.kind, inputs: [x.tensor], output: p, attributes: [
            QAttribute("steps", [Int32(steps)]), QAttribute("fraction_bits", [Int32(fractionBits)]),
            QAttribute("gamma", [Int32(g)]), QAttribute("epsilon", TVSmoothingLimits.halves(Int64(e))),
            QAttribute("multiplier", [m.multiplier]), QAttribute("shift", [m.shift]), QAttribute("clamp", lowering.clamp(p)),
        ])
    }
}
