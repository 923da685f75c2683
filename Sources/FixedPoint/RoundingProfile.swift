/// How the integer runtime applies a `QuantizedMultiplier` to an int32 accumulator: the two behaviours of
/// TFLite's `MultiplyByQuantizedMultiplier`, chosen by name instead of by a compile flag.
/// Formulas, tie rules and how often they disagree: docs/numerics.md.
public enum RoundingProfile: String, Sendable, CaseIterable {
    /// TFLite's reference default (gemmlowp "double rounding"), with `l = max(shift, 0)`, `r = max(-shift, 0)`:
    ///
    ///     roundingDivideByPowerOfTwo(saturatingRoundingDoublingHighMul(x * 2^l, multiplier), r)
    ///
    /// First rounding ties toward +inf, second ties away from zero. `x * 2^l` is an int32 multiply in
    /// TFLite (overflow is undefined behaviour in C++; compiled code wraps): it wraps here too, so results
    /// match a deployed TFLite build bit for bit even when a left shift overflows.
    case gemmlowp
    /// TFLite built with `TFLITE_SINGLE_ROUNDING`: one rounding, ties toward +inf, in int64:
    ///
    ///     (Int64(x) * multiplier + 2^(30 - shift)) >> (31 - shift)
    ///
    /// A result outside int32 (only possible for shift > 0) is truncated to its low 32 bits, as TFLite's
    /// release build does after its debug-only range check.
    case single
}

extension RoundingProfile {
    /// `x * m.multiplier * 2^(m.shift - 31)` rounded by this profile's rules.
    /// `m.shift` must be in `QuantizedMultiplier.supportedShifts` (-31...30).
    @inlinable
    public func multiply(_ x: Int32, by m: QuantizedMultiplier) -> Int32 {
        precondition(QuantizedMultiplier.supportedShifts.contains(m.shift),
                     "multiply: shift \(m.shift) outside -31...30")
        switch self {
        case .gemmlowp:
            let leftShift = Swift.max(m.shift, 0)
            let rightShift = Swift.max(-m.shift, 0)
            let scaled = x &<< leftShift // wraps, like TFLite's `x * (1 << left_shift)`
            return roundingDivideByPowerOfTwo(saturatingRoundingDoublingHighMul(scaled, m.multiplier), Int(rightShift))
        case .single:
            let totalShift = Int64(31 &- m.shift) // 1...62
            let product = Int64(x) &* Int64(m.multiplier) // |product| <= 2^62
            let rounded = (product &+ (Int64(1) &<< (totalShift &- 1))) &>> totalShift
            return Int32(truncatingIfNeeded: rounded)
        }
    }

    /// `multiply(_:by:)` applied in place to every value.
    @inlinable
    public func multiply(_ values: UnsafeMutableBufferPointer<Int32>, by m: QuantizedMultiplier) {
        for i in values.indices {
            values[i] = multiply(values[i], by: m)
        }
    }

    /// Requantises int32 accumulators to the output type, channel fastest (NHWC: `index % channels` is
    /// the output channel), in TFLite's order:
    ///
    ///     out[i] = clamp(multiply(acc[i], by: multipliers[i % channels]) + outputZeroPoint, min, max)
    ///
    /// The zero-point add is an int32 add that wraps, like the reference's. Sizes are the caller's
    /// contract (programmer errors): `acc.count == output.count`, a multiple of `channels`;
    /// `multipliers.count == channels`; `min...max` representable in `Output`.
    /// This is the plain scalar reference that vectorised kernels are tested against.
    @inlinable
    public func requantize<Output: FixedWidthInteger>(
        _ accumulators: UnsafeBufferPointer<Int32>, channels: Int, multipliers: [QuantizedMultiplier],
        outputZeroPoint: Int32, min: Int32, max: Int32, into output: UnsafeMutableBufferPointer<Output>
    ) {
        precondition(channels > 0 && multipliers.count == channels,
                     "requantize: \(multipliers.count) multipliers for \(channels) channels")
        precondition(accumulators.count == output.count && accumulators.count % channels == 0,
                     "requantize: \(accumulators.count) accumulators, \(output.count) outputs, \(channels) channels")
        precondition(min <= max && Output(exactly: min) != nil && Output(exactly: max) != nil,
                     "requantize: clamp \(min)...\(max) not representable in \(Output.self)")
        var index = 0
        while index < accumulators.count {
            for channel in 0..<channels {
                let scaled = multiply(accumulators[index &+ channel], by: multipliers[channel]) &+ outputZeroPoint
                output[index &+ channel] = Output(truncatingIfNeeded: clamp(scaled, min, max))
            }
            index &+= channels
        }
    }
}
