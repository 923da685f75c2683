/// How far the model's own decisions move under the rounding noise of its quantization grids alone:
/// the float model fed the quantized input, with independent uniform noise of ±½ step added to every
/// nonzero value of each tensor the quantized model rounds (not to max-pool, reshape or padding
/// outputs, which copy values), float weights and no clipping, compared with the clean float model.
///
/// A reference, not a strict bound: a quantized model's rounding is partly systematic (a constant
/// rounded the same way everywhere), which bias correction removes, so it can beat the floor. A
/// top-1 agreement near or below the floor says the bit widths, more than the clipping or rounding
/// method, limit the result.
public struct NoiseFloor: Codable, Sendable, Equatable {
    /// Independent noise draws over the evaluation samples (seeded by the conversion's `seed`).
    public var draws: Int
    /// Top-1 agreement with the clean float model, mean over draws (0 ... 1).
    public var top1AgreementMean: Double
    /// Smallest and largest agreement of a single draw.
    public var top1AgreementMin: Double
    public var top1AgreementMax: Double
    /// Share of draws whose agreement is at least the `min-agreement` gate; `nil` without that gate.
    public var shareAtGate: Double?

    public init(draws: Int, top1AgreementMean: Double, top1AgreementMin: Double, top1AgreementMax: Double, shareAtGate: Double? = nil) {
        self.draws = draws
        self.top1AgreementMean = top1AgreementMean
        self.top1AgreementMin = top1AgreementMin
        self.top1AgreementMax = top1AgreementMax
        self.shareAtGate = shareAtGate
    }
}
