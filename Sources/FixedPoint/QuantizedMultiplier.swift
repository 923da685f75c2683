/// A non-negative real multiplier as a Q0.31 significand and a power-of-two exponent, as TFLite's
/// `QuantizeMultiplier` derives it:
///
///     real ≈ multiplier * 2^(shift - 31),   multiplier in [2^30, 2^31 - 1] (or 0)
///
/// Derivation (docs/numerics.md): `real = q * 2^e` with `q` in [0.5, 1) (C `frexp`);
/// `multiplier = round(q * 2^31)` with ties away from zero (`std::round`; the product is exact in
/// double, so this is the only rounding); when that rounds up to 2^31 it is halved and `shift`
/// becomes `e + 1`, else `shift = e`. A shift below -31 (real < ~2^-32) flushes to (0, 0), and
/// `real == 0` is (0, 0). For the `single` profile TFLite also caps a shift above 30 at
/// (2^31 - 1, 30) (`TFLITE_SINGLE_ROUNDING`); the gemmlowp build leaves it, and multiplying with a
/// shift above 30 is then a programmer error.
public struct QuantizedMultiplier: Sendable, Equatable, Hashable {
    /// Q0.31 significand; `>= 0` for every multiplier this type derives.
    public var multiplier: Int32
    /// Power-of-two exponent: positive shifts left, negative shifts right.
    public var shift: Int32

    /// The shifts both rounding profiles can apply (TFLite's `DCHECK(shift >= -31 && shift <= 30)`).
    public static let supportedShifts: ClosedRange<Int32> = -31...30

    /// The multiplier that scales by exactly zero.
    public static let zero = QuantizedMultiplier(multiplier: 0, shift: 0)

    @inlinable
    public init(multiplier: Int32, shift: Int32) {
        self.multiplier = multiplier
        self.shift = shift
    }

    /// Derives the multiplier for a trusted `real >= 0` (finite); anything else is a programmer error.
    /// Use `make(_:for:)` for values that come from data.
    public init(_ real: Double, for profile: RoundingProfile = .gemmlowp) {
        precondition(real.isFinite && real >= 0, "QuantizedMultiplier requires a finite real >= 0, got \(real)")
        self = Self.derive(real, profile)
    }

    /// Derives the multiplier for an untrusted `real`, throwing when it is negative, not finite, or (gemmlowp)
    /// too large for a shift of at most 30.
    public static func make(_ real: Double, for profile: RoundingProfile = .gemmlowp) throws(FixedPointError) -> QuantizedMultiplier {
        guard real.isFinite else { throw .nonFiniteMultiplier(real) }
        guard real >= 0 else { throw .negativeMultiplier(real) }
        let result = derive(real, profile)
        guard supportedShifts.contains(result.shift) else { throw .multiplierTooLarge(real, shift: Int(result.shift)) }
        return result
    }

    /// The real value this multiplier stands for: `multiplier * 2^(shift - 31)` (exact in double).
    public var realValue: Double {
        Double(sign: .plus, exponent: Int(shift) - 31, significand: Double(multiplier))
    }

    private static func derive(_ real: Double, _ profile: RoundingProfile) -> QuantizedMultiplier {
        if real == 0 { return .zero }
        // frexp: real = q * 2^e with q in [0.5, 1). Swift's `significand` is in [1, 2), also for subnormals.
        let q = real.significand / 2
        var exponent = Int(real.exponent) + 1
        var fixed = Int64((q * 2_147_483_648.0).rounded(.toNearestOrAwayFromZero)) // in [2^30, 2^31]
        if fixed == 1 << 31 {
            fixed /= 2
            exponent += 1
        }
        if exponent < -31 { return .zero }
        if profile == .single && exponent > 30 { return QuantizedMultiplier(multiplier: .max, shift: 30) }
        return QuantizedMultiplier(multiplier: Int32(fixed), shift: Int32(exponent))
    }
}

extension QuantizedMultiplier: CustomStringConvertible {
    public var description: String { "\(multiplier) * 2^(\(shift) - 31)" }
}
