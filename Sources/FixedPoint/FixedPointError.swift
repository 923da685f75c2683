/// Why a real multiplier cannot become a `QuantizedMultiplier`. Only `QuantizedMultiplier.make(_:for:)`
/// throws these; the non-throwing initialiser treats the same inputs as programmer errors.
public enum FixedPointError: Error, Equatable, CustomStringConvertible {
    /// Requantisation multipliers are ratios of positive scales; a negative one means a sign error upstream.
    case negativeMultiplier(Double)
    /// NaN or infinity, usually a zero or NaN output scale from calibration.
    case nonFiniteMultiplier(Double)
    /// `real >= 2^30` gives a shift above 30, which the int32 arithmetic of the gemmlowp profile cannot apply.
    case multiplierTooLarge(Double, shift: Int)

    public var description: String {
        switch self {
        case .negativeMultiplier(let real):
            return "requantization multiplier \(real) is negative; multipliers are s_in * s_w / s_out and every scale must be positive"
        case .nonFiniteMultiplier(let real):
            return "requantization multiplier is \(real); check that the output scale is positive and finite (calibration range empty?)"
        case .multiplierTooLarge(let real, let shift):
            return "requantization multiplier \(real) needs shift \(shift) > 30, beyond int32 fixed point; the output scale is far too small for its inputs"
        }
    }
}
