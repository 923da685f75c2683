// Narrow micro-kernels for B panels with at most 8 or 4 valid columns (layers, or groups of a
// grouped conv, with few output channels). The 6x16 kernel would spend half or three quarters of
// its multiply-adds on the panel's zero columns; these read the same 16-wide packed panel and do
// only the left 8 or 4 columns' work. On 256-bit-split cores (Zen 1) a `SIMD4` FMA also costs half
// a `SIMD8` one, so the 4-wide kernel pays off there as well as on cores with full-width FMA.

@inline(__always) func load4(_ p: UnsafePointer<Float>) -> SIMD4<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
}

@inline(__always) func store4(_ v: SIMD4<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Float>.self)
}

extension SIMD4 where Scalar == Float {
    /// Lanes limited to `[lo, hi]` (see `SIMD8.clamped`).
    @inline(__always) func clamped(_ lo: SIMD4<Float>, _ hi: SIMD4<Float>) -> SIMD4<Float> {
        var v = self
        v.replace(with: lo, where: v .< lo)
        v.replace(with: hi, where: v .> hi)
        return v
    }
}

/// `C[6x8] = clamp((bias ?? C) + A[6 x kc] * B[kc x 8])`: the left half of `microKernel6x16`, with
/// `B` read from the same `[k][16]` packed panel and the same block/bias/clamp contract.
@inline(__always)
func microKernel6x8<A: MicroPanelA>(kc: Int, a: A, b: UnsafePointer<Float>,
                                    c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                                    epilogue: GEMMEpilogue) {
    let c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc
    var r0, r1, r2, r3, r4, r5: SIMD8<Float>
    if let bias {
        let b0 = load8(bias)
        r0 = b0; r1 = b0; r2 = b0; r3 = b0; r4 = b0; r5 = b0
    } else {
        r0 = load8(c); r1 = load8(c1); r2 = load8(c2); r3 = load8(c3); r4 = load8(c4); r5 = load8(c5)
    }
    var bp = b
    for k in 0..<kc {
        let b0 = load8(bp)
        let column = a.column(k)
        r0 = r0.addingProduct(SIMD8(repeating: column.0), b0)
        r1 = r1.addingProduct(SIMD8(repeating: column.1), b0)
        r2 = r2.addingProduct(SIMD8(repeating: column.2), b0)
        r3 = r3.addingProduct(SIMD8(repeating: column.3), b0)
        r4 = r4.addingProduct(SIMD8(repeating: column.4), b0)
        r5 = r5.addingProduct(SIMD8(repeating: column.5), b0)
        bp += GEMMTile.nr
    }
    if epilogue.clamps {
        let lo = SIMD8<Float>(repeating: epilogue.lo), hi = SIMD8<Float>(repeating: epilogue.hi)
        r0 = r0.clamped(lo, hi); r1 = r1.clamped(lo, hi); r2 = r2.clamped(lo, hi)
        r3 = r3.clamped(lo, hi); r4 = r4.clamped(lo, hi); r5 = r5.clamped(lo, hi)
    }
    store8(r0, c); store8(r1, c1); store8(r2, c2); store8(r3, c3); store8(r4, c4); store8(r5, c5)
}

/// `C[6x4] = clamp((bias ?? C) + A[6 x kc] * B[kc x 4])`: the left quarter of `microKernel6x16`.
@inline(__always)
func microKernel6x4<A: MicroPanelA>(kc: Int, a: A, b: UnsafePointer<Float>,
                                    c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>?,
                                    epilogue: GEMMEpilogue) {
    let c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc
    var r0, r1, r2, r3, r4, r5: SIMD4<Float>
    if let bias {
        let b0 = load4(bias)
        r0 = b0; r1 = b0; r2 = b0; r3 = b0; r4 = b0; r5 = b0
    } else {
        r0 = load4(c); r1 = load4(c1); r2 = load4(c2); r3 = load4(c3); r4 = load4(c4); r5 = load4(c5)
    }
    var bp = b
    for k in 0..<kc {
        let b0 = load4(bp)
        let column = a.column(k)
        r0 = r0.addingProduct(SIMD4(repeating: column.0), b0)
        r1 = r1.addingProduct(SIMD4(repeating: column.1), b0)
        r2 = r2.addingProduct(SIMD4(repeating: column.2), b0)
        r3 = r3.addingProduct(SIMD4(repeating: column.3), b0)
        r4 = r4.addingProduct(SIMD4(repeating: column.4), b0)
        r5 = r5.addingProduct(SIMD4(repeating: column.5), b0)
        bp += GEMMTile.nr
    }
    if epilogue.clamps {
        let lo = SIMD4<Float>(repeating: epilogue.lo), hi = SIMD4<Float>(repeating: epilogue.hi)
        r0 = r0.clamped(lo, hi); r1 = r1.clamped(lo, hi); r2 = r2.clamped(lo, hi)
        r3 = r3.clamped(lo, hi); r4 = r4.clamped(lo, hi); r5 = r5.clamped(lo, hi)
    }
    store4(r0, c); store4(r1, c1); store4(r2, c2); store4(r3, c3); store4(r4, c4); store4(r5, c5)
}
