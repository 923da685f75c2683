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
    @inline(__always)
    func apply<R: StaticRounding>(_ acc: Int32, _ m: QuantizedMultiplier, _: R.Type) -> Int32 {
        Swift.min(Swift.max(R.multiply(acc, by: m.provablyInRange) &+ outputZero, lower), upper)
    }
}

extension QuantizedMultiplier {
    /// This multiplier with its shift clamped to `supportedShifts` (-31...30), which changes nothing for
    /// the multipliers `LayerBuilder` builds (it rejects any other shift). The clamp lets the optimiser
    /// prove the profile's range precondition and drop it, leaving a branch-free `multiply` that
    /// vectorises, also over per-channel multipliers.
    @inline(__always)
    var provablyInRange: QuantizedMultiplier {
        // The bounds as literals: the optimiser cannot see through `supportedShifts` (a global of another module).
        QuantizedMultiplier(multiplier: multiplier, shift: Swift.min(Swift.max(shift, -31), 30))
    }
}
