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

    /// `quantizeEdge` of every value of `source` into `destination` (same count), bit for bit, in a loop
    /// the compiler vectorises (SSE2 suffices: no rounding instruction, no trapping conversion).
    ///
    /// For types of at most 16 bits with the zero point inside the type, the quotient `y = x / scale` is
    /// clamped to `[typeMin - zp, typeMax - zp]` (a NaN gives `zp` at the end)
    /// (integers: any `y` beyond quantizes to the bound either way, and `round` keeps integers), so the
    /// result needs no clamp and every step below is exact in Float (magnitudes < 2^22):
    /// `n = (|y| + 2^23) - 2^23` rounds to nearest even; `|y| - n == 0.5` marks the ties it rounded
    /// down, which go up (away from zero); `q + 1.5 * 2^23` holds the integer `q` in its low mantissa
    /// bits. Other tensors (i32) take the per-value path.
    public func quantizeEdge(_ source: UnsafeBufferPointer<Float>, into destination: UnsafeMutableBufferPointer<Int32>) {
        precondition(source.count == destination.count, "quantizeEdge: \(source.count) floats into \(destination.count) values")
        let zero = zeroPoints[0], scale = scales[0]
        guard let (below, above) = edgeQuotientBounds, let x = source.baseAddress, let q = destination.baseAddress else {
            for i in 0..<source.count { destination[i] = quantizeEdge(source[i]) }
            return
        }
        let zeroF = Float(zero)
        let twoTo23: Float = 8_388_608, magic: Float = 12_582_912  // 2^23, 1.5 * 2^23 (bits 0x4B40_0000)
        for i in 0..<source.count {
            let quotient = x[i] / scale
            // The patterns of maxps / minps (a NaN quotient gives `below` here, and `zero` at the end).
            let raised = quotient > below ? quotient : below
            let y = raised < above ? raised : above
            let a = y.magnitude
            let even = (a + twoTo23) - twoTo23
            let away = even + (a - even == 0.5 ? 1 : 0)
            let value = Float(signOf: y, magnitudeOf: away) + zeroF
            let rounded = Int32(bitPattern: (value + magic).bitPattern) &- 0x4B40_0000
            q[i] = quotient != quotient ? zero : rounded  // NaN (a compare; `isNaN` tests bits)
        }
    }

    /// The bounds `[typeMin - zp, typeMax - zp]` that the vector form of `quantizeEdge` clamps the
    /// quotient `x / scale` to, where that form applies (at most 16 bits, the zero point inside the
    /// type); nil for other tensors, which take the per-value path.
    public var edgeQuotientBounds: (below: Float, above: Float)? {
        let zero = Int64(zeroPoints[0])
        guard type.bits <= 16, (type.minValue...type.maxValue).contains(zero) else { return nil }
        return (Float(type.minValue - zero), Float(type.maxValue - zero))
    }

    /// `dequantizeEdge` of every value of `source` into `destination` (same count), bit for bit.
    public func dequantizeEdge(_ source: UnsafeBufferPointer<Int32>, into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(source.count == destination.count, "dequantizeEdge: \(source.count) values into \(destination.count) floats")
        guard let q = source.baseAddress, let r = destination.baseAddress else { return }
        let zero = zeroPoints[0], scale = scales[0]
        for i in 0..<source.count { r[i] = scale * Float(q[i] &- zero) }
    }
}
