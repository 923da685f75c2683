/// `exp`, `sigmoid` and `tanh` on eight floats at once, within a few float32 ulps of the exact
/// values (relative error below 1e-6, checked against Double in KernelActivationTests), so the
/// activations of a layer cost a few multiply-adds per element instead of a libm call each. The
/// reference of the C kernel `qc_activation_f32` that the engine runs (the same operations in the same
/// order, tested bit for bit at every level).
///
/// The polynomials are Cephes' `expf` and `tanhf` (S. Moshier), evaluated with separate multiplies and
/// adds: Swift has no portable fused multiply-add (`addingProduct` is a libm `fmaf` call per lane
/// unless the whole module is built for an FMA CPU), and Cephes' evaluation does not need one.
enum VectorMath {
    /// `e^x`. Inputs are clamped to `[-87.3, 88]` so that `n` below stays in `[-126, 127]` and the
    /// result finite: below the range it is ~1.2e-38 instead of a subnormal or 0, above it ~1.7e38
    /// instead of +inf (which is all `sigmoid` and `tanh` below need).
    ///
    /// `x = n ln2 + r` with `n = round(x / ln2)` and `|r| <= ln2 / 2` (ln2 split in two parts so
    /// `n * ln2` is exact enough), `e^r ~ 1 + r + r^2 P(r)` (degree 5), times `2^n` built in the
    /// exponent bits.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let x = x.clamped(SIMD8(repeating: -87.33654), SIMD8(repeating: 88))
        // Adding 1.5 * 2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = (x * SIMD8(repeating: 1.442_695_04)) + magic
        let n = t - magic
        var r = x + n * SIMD8(repeating: -0.693_359_375)
        r = r + n * SIMD8(repeating: 2.121_944_4e-4)
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = SIMD8(repeating: 1.398_199_950_7e-3) + p * r
        p = SIMD8(repeating: 8.333_451_907_3e-3) + p * r
        p = SIMD8(repeating: 4.166_579_589_4e-2) + p * r
        p = SIMD8(repeating: 1.666_666_545_9e-1) + p * r
        p = SIMD8(repeating: 5.000_000_120_1e-1) + p * r
        let er = (r + 1) + p * (r * r)
        let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self)
        let scaleBits = (bits &- 0x4B40_0000 &+ 127) &<< 23
        return er * unsafeBitCast(scaleBits, to: SIMD8<Float>.self)
    }

    /// `1 / (1 + e^-x)`.
    @inline(__always)
    static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 / (1 + exp(-x))
    }

    /// `tanh x`: an odd polynomial `x + x^3 Q(x^2)` for `|x| < 0.625` (where `1 - 2 / (e^2x + 1)`
    /// would cancel), `sign(x) (1 - 2 / (e^2|x| + 1))` above.
    @inline(__always)
    static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let z = x * x
        var q = SIMD8<Float>(repeating: -5.704_988_727_45e-3)
        q = SIMD8(repeating: 2.063_908_879_54e-2) + q * z
        q = SIMD8(repeating: -5.373_971_555_31e-2) + q * z
        q = SIMD8(repeating: 1.333_144_220_36e-1) + q * z
        q = SIMD8(repeating: -3.333_328_194_22e-1) + q * z
        let small = x + (q * z) * x
        let magnitude = abs(x)
        let large = 1 - 2 / (exp(magnitude + magnitude) + 1)
        var result = large
        result.replace(with: -large, where: x .< 0)
        result.replace(with: small, where: magnitude .< 0.625)
        return result
    }

    private static func abs(_ x: SIMD8<Float>) -> SIMD8<Float> {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
    }
}
