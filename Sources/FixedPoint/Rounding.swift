// The rounding primitives of the integer runtime. Every right shift of a signed value in qconvert goes
// through one of these, so each tie rule is written down once (table in docs/numerics.md).

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: the high 32 bits of `2 * a * b`, rounded to nearest
/// with ties toward +infinity:
///
///     floor((a * b + 2^30) / 2^31)
///
/// The only input whose result overflows, `a == b == Int32.min` (2^31), saturates to `Int32.max`.
/// (gemmlowp writes it as `(ab + nudge) / 2^31` with C's truncating division and
/// `nudge = ab >= 0 ? 2^30 : 1 - 2^30`; both forms agree on every input.)
@inlinable
public func saturatingRoundingDoublingHighMul(_ a: Int32, _ b: Int32) -> Int32 {
    if a == .min && b == .min { return .max }
    let product = Int64(a) &* Int64(b) // |a * b| <= 2^62: exact
    return Int32(truncatingIfNeeded: (product &+ (1 << 30)) &>> 31)
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero,
/// for `exponent` in 0...31.
@inlinable
public func roundingDivideByPowerOfTwo(_ x: Int32, _ exponent: Int) -> Int32 {
    precondition((0...31).contains(exponent), "roundingDivideByPowerOfTwo: exponent \(exponent) outside 0...31")
    let mask = Int32(truncatingIfNeeded: (Int64(1) << exponent) &- 1)
    let remainder = x & mask
    // A tie is remainder == half; negative values need one more to round up (away from zero is down).
    let threshold = (mask &>> 1) &+ (x < 0 ? 1 : 0)
    return (x &>> Int32(exponent)) &+ (remainder > threshold ? 1 : 0)
}

/// `x / 2^exponent` rounded to nearest, ties away from zero, for `exponent` in 0...62: the 64-bit form of
/// `roundingDivideByPowerOfTwo` for callers that keep 64-bit accumulators.
@inlinable
public func roundingDivideByPowerOfTwo(_ x: Int64, _ exponent: Int) -> Int64 {
    precondition((0...62).contains(exponent), "roundingDivideByPowerOfTwo: exponent \(exponent) outside 0...62")
    let mask = (Int64(1) << exponent) &- 1
    let remainder = x & mask
    let threshold = (mask &>> 1) &+ (x < 0 ? 1 : 0)
    return (x &>> Int64(exponent)) &+ (remainder > threshold ? 1 : 0)
}

/// `x / 2^exponent` rounded to nearest, ties toward +infinity (`(x + 2^(exponent-1)) >> exponent`),
/// for `exponent` in 0...62: the rounding of TFLite's single-rounding multiply.
/// `x + 2^(exponent-1)` must not overflow (|x| < 2^63 - 2^61 always suffices).
@inlinable
public func roundingShiftRightHalfUp(_ x: Int64, _ exponent: Int) -> Int64 {
    precondition((0...62).contains(exponent), "roundingShiftRightHalfUp: exponent \(exponent) outside 0...62")
    if exponent == 0 { return x }
    return (x &+ (Int64(1) << (exponent - 1))) &>> Int64(exponent)
}

/// `floor(x / 2^exponent)`, for `exponent` in 0...63: an arithmetic right shift under a name that says
/// how it rounds (toward -infinity, so `-1 >> 1 == -1`).
@inlinable
public func floorDivideByPowerOfTwo(_ x: Int64, _ exponent: Int) -> Int64 {
    precondition((0...63).contains(exponent), "floorDivideByPowerOfTwo: exponent \(exponent) outside 0...63")
    return x &>> Int64(exponent)
}

/// `x` rounded to the nearest integer, ties away from zero (C `round`, TFLite `TfLiteRound`): what the
/// quantizers use for `round(r / scale)`. Saturates at the `Int64` range; NaN gives 0 (callers that can
/// see NaN must check for it first: there is no right answer to return).
@inlinable
public func roundHalfAwayFromZero(_ x: Double) -> Int64 {
    roundedSaturating(x.rounded(.toNearestOrAwayFromZero))
}

/// `x` rounded to the nearest integer, ties to even (`lrint` in the default rounding mode): XNNPACK's
/// float requantisation and numpy's `round`. Same saturation and NaN rule as `roundHalfAwayFromZero`.
@inlinable
public func roundHalfToEven(_ x: Double) -> Int64 {
    roundedSaturating(x.rounded(.toNearestOrEven))
}

@inlinable
internal func roundedSaturating(_ integral: Double) -> Int64 {
    if integral.isNaN { return 0 }
    if integral >= 9_223_372_036_854_775_808.0 { return .max } // 2^63
    if integral < -9_223_372_036_854_775_808.0 { return .min }
    return Int64(integral)
}

/// `x` clamped to `lower...upper`.
@inlinable
public func clamp<T: Comparable>(_ x: T, _ lower: T, _ upper: T) -> T {
    Swift.min(Swift.max(x, lower), upper)
}
