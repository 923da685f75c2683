/// The float edges of every runtime of a `.qbin` model (simulator, emulation, `qconvert run`):
/// one definition, so they quantize inputs and dequantize outputs value for value alike.
extension QTensor {
    /// `q = clamp(round(x / scale) + zp, typeMin, typeMax)` in Float, ties away from zero, NaN to `zp`
    /// (per-tensor parameters: `scales[0]`, `zeroPoints[0]`).
    @inlinable
    public func quantizeEdge(_ x: Float) -> Int32 {
        let zero = zeroPoints[0]
        let q = (x / scales[0]).rounded(.toNearestOrAwayFromZero) + Float(zero)
        if q.isNaN { return zero }
        let clamped = Swift.min(Swift.max(q, Float(type.minValue)), Float(type.maxValue))
        // Float(Int32.max) rounds up to 2^31, which Int32 cannot hold (only an i32 tensor gets there).
        return clamped >= 2_147_483_648 ? Int32.max : Int32(clamped)
    }

    /// `r = scale * (q - zp)` in Float (per-tensor parameters).
    @inlinable
    public func dequantizeEdge(_ q: Int32) -> Float { scales[0] * Float(q &- zeroPoints[0]) }
}
