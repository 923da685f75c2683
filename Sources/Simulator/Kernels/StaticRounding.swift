import FixedPoint

/// A `RoundingProfile` fixed at compile time, so that a fast kernel's inner loop holds no switch on the
/// profile: kernels are generic over `R: StaticRounding` and pick the type once per call with
/// a `switch` on the profile. `multiply` is exactly `RoundingProfile.multiply(_:by:)` of that profile.
protocol StaticRounding {
    static func multiply(_ x: Int32, by m: QuantizedMultiplier) -> Int32
}

/// `RoundingProfile.gemmlowp`.
enum GemmlowpRounding: StaticRounding {
    @inline(__always)
    static func multiply(_ x: Int32, by m: QuantizedMultiplier) -> Int32 { RoundingProfile.gemmlowp.multiply(x, by: m) }
}

/// `RoundingProfile.single`.
enum SingleRounding: StaticRounding {
    @inline(__always)
    static func multiply(_ x: Int32, by m: QuantizedMultiplier) -> Int32 { RoundingProfile.single.multiply(x, by: m) }
}

extension ChannelRequantizer {
    /// `apply(acc, channel:)` with the profile fixed by `R` and the multiplier passed in (hoisted by the caller):
    /// `clamp(zout + R.multiply(acc, m))`, the same int32 steps.
    ///
    /// `LayerBuilder` only builds multipliers whose shift lies in `QuantizedMultiplier.supportedShifts`, so
    /// clamping the shift to that range changes no value; it lets the optimiser prove the profile's range
    /// precondition and drop it, which leaves a branch-free body that vectorises over per-channel multipliers.
    @inline(__always)
    func apply<R: StaticRounding>(_ acc: Int32, _ m: QuantizedMultiplier, _: R.Type) -> Int32 {
        // -31...30 is `QuantizedMultiplier.supportedShifts`, spelled as literals so the optimiser sees the bounds.
        let checked = QuantizedMultiplier(multiplier: m.multiplier, shift: Swift.min(Swift.max(m.shift, -31), 30))
        return Swift.min(Swift.max(R.multiply(acc, by: checked) &+ outputZero, lower), upper)
    }
}
