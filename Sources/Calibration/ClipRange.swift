/// A chosen clipping range of one tensor.
///
/// Invariant: `low <= 0 <= high` (zero is always representable), and `low == 0` when the tensor is
/// non-negative. `low == high == 0` only for a tensor that was all zeros: the quantizer must then
/// pick a scale of its own.
public struct ClipRange: Sendable, Equatable {
    public var low: Float
    public var high: Float
    /// The method that produced it ("kl", ...; for `.auto` the winner's name, never "auto").
    public var method: String
    /// Estimated mean squared quantization error (clipping + rounding) of this range on the
    /// histogram, per value, in the tensor's units squared.
    public var estimatedMSE: Double

    public init(low: Float, high: Float, method: String, estimatedMSE: Double) {
        self.low = low; self.high = high; self.method = method; self.estimatedMSE = estimatedMSE
    }

    /// `high - low`.
    public var width: Float { high - low }
}
