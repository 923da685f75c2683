/// `conv2DTranspose`, bit-for-bit equal to `ReferenceConv2DTranspose`'s scatter (tested): int32 sums
/// wrap the same way in any order. Samples are split over the threads; each sample's sums are then
/// requantized per channel with the bias, as in `FastConv2D`.
///
/// With inputs and weights of at most 8 bits, the products come from one int8 GEMM per block of input
/// pixels: A = the pixels' values `x - zin` (int16 pairs, the `s16` path, exact at any width up to 8
/// bits), B = the weights as `kernelH * kernelW * outC` rows of `inC` (one per tap and output channel),
/// so row `r` of the result holds every tap's contribution of input pixel `r`; they are then added into
/// the output pixels the taps reach. Wider values take the direct scatter: each `x - zin` times its
/// tap's weights of every output channel, added into the output pixel (the loop over channels vectorises).
final class FastConv2DTranspose: IntegerLayer {
    let p: ConvParams
    /// `[filterY, filterX, inChannel, outChannel]`, for the direct scatter.
    let taps: [Int32]
    /// Rows `(filterY * kernelW + filterX) * outC + outChannel` of `inC` weights; nil = direct scatter.
    let packed: PackedGEMMWeights?

    init(_ params: ConvParams, gemm: Bool) {
        p = params
        let (kh, kw, cin, cout) = (params.kernelH, params.kernelW, params.inC, params.outC)
        var t = [Int32](repeating: 0, count: params.weights.count)
        var rows = [Int32](repeating: 0, count: params.weights.count)
        // Stored weights are [outC, kh, kw, inC].
        for o in 0..<cout {
            for fy in 0..<kh { for fx in 0..<kw { for ci in 0..<cin {
                let w = params.weights[((o * kh + fy) * kw + fx) * cin + ci]
                t[(((fy * kw + fx) * cin + ci) * cout) + o] = w
                rows[((fy * kw + fx) * cout + o) * cin + ci] = w
            } } }
        }
        taps = t
        packed = gemm ? rows.withUnsafeBufferPointer {
            PackedGEMMWeights(weights: $0, n: kh * kw * cout, k: cin, rowStride: cin, path: .s16)
        } : nil
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0].baseAddress!, out = output.baseAddress!
        let outSize = p.outH * p.outW * p.outC, inSize = p.inH * p.inW * p.inC
        p.bias.withUnsafeBufferPointer { bias in
            let bias = bias.baseAddress!
            parallelChunks(batch, threads: threads) { samples in
                let acc = UnsafeMutablePointer<Int32>.allocate(capacity: outSize)
                defer { acc.deallocate() }
                let scratch = packed.map { GEMMScratch(weights: $0) }
                defer { scratch?.deallocate() }
                for b in samples {
                    acc.update(repeating: 0, count: outSize)
                    if let packed, let scratch {
                        accumulateByGEMM(input + b &* inSize, into: acc, packed: packed, scratch: scratch)
                    } else {
                        scatter(input + b &* inSize, into: acc)
                    }
                    p.requant.requantizeRows(acc, ldc: p.outC, rows: p.outH * p.outW, channels: p.outC, bias: bias, firstChannel: 0,
                                             into: out + b &* outSize, outStride: p.outC)
                }
            }
        }
    }

    /// One sample's sums through the GEMM, `GEMMScratch.blockRows` input pixels at a time.
    private func accumulateByGEMM(_ x: UnsafePointer<Int32>, into acc: UnsafeMutablePointer<Int32>,
                                  packed: PackedGEMMWeights, scratch: GEMMScratch) {
        let pixels = p.inH * p.inW, inC = p.inC, outC = p.outC, zin = p.inputZero
        let a = scratch.a.assumingMemoryBound(to: Int16.self), lda = scratch.lda, c = scratch.c, ldc = scratch.ldc
        var first = 0
        while first < pixels {
            let count = Swift.min(GEMMScratch.blockRows, pixels &- first)
            for r in 0..<count {
                let src = x + (first &+ r) &* inC, dst = a + r &* lda
                for i in 0..<inC { dst[i] = Int16(truncatingIfNeeded: src[i] &- zin) }
            }
            packed.multiply(a: scratch.a, lda: lda, rows: (count + 3) & ~3, c: c, ldc: ldc)
            for r in 0..<count {
                let row = c + r &* ldc
                forEachTarget(inY: (first &+ r) / p.inW, inX: (first &+ r) % p.inW) { tap, outPixel in
                    add(into: acc + outPixel &* outC, row + tap &* outC, count: outC)
                }
            }
            first &+= count
        }
    }

    /// `body(tap, outPixel)` for each tap `filterY * kernelW + filterX` of input pixel `(inY, inX)` that
    /// reaches an output pixel, `outPixel = outY * outW + outX`.
    @inline(__always)
    private func forEachTarget(inY: Int, inX: Int, _ body: (_ tap: Int, _ outPixel: Int) -> Void) {
        for filterY in 0..<p.kernelH {
            let outY = inY &* p.strideH &+ filterY &* p.dilationH &- p.padTop
            if outY < 0 || outY >= p.outH { continue }
            for filterX in 0..<p.kernelW {
                let outX = inX &* p.strideW &+ filterX &* p.dilationW &- p.padLeft
                if outX < 0 || outX >= p.outW { continue }
                body(filterY &* p.kernelW &+ filterX, outY &* p.outW &+ outX)
            }
        }
    }

    /// One sample's sums by the direct scatter (inputs or weights wider than 8 bits).
    private func scatter(_ x: UnsafePointer<Int32>, into acc: UnsafeMutablePointer<Int32>) {
        let outC = p.outC
        taps.withUnsafeBufferPointer { taps in
            let taps = taps.baseAddress!
            for inY in 0..<p.inH {
                for inX in 0..<p.inW {
                    let src = x + (inY &* p.inW &+ inX) &* p.inC
                    forEachTarget(inY: inY, inX: inX) { tap, outPixel in
                        let dst = acc + outPixel &* outC, w0 = taps + tap &* p.inC &* outC
                        for ci in 0..<p.inC {
                            let value = src[ci] &- p.inputZero
                            if value == 0 { continue }
                            multiplyAdd(into: dst, w0 + ci &* outC, value, count: outC)
                        }
                    }
                }
            }
        }
    }
}

/// `dst[o] += w[o]` for `o < count`, int32 wrapping, eight lanes at a time.
@inline(__always)
private func add(into dst: UnsafeMutablePointer<Int32>, _ w: UnsafePointer<Int32>, count: Int) {
    var o = 0
    while o &+ 8 <= count {
        let d = UnsafeMutableRawPointer(dst + o), s = UnsafeRawPointer(w + o)
        d.storeBytes(of: d.loadUnaligned(as: SIMD8<Int32>.self) &+ s.loadUnaligned(as: SIMD8<Int32>.self), as: SIMD8<Int32>.self)
        o &+= 8
    }
    while o < count {
        dst[o] = dst[o] &+ w[o]
        o &+= 1
    }
}

/// `dst[o] += x * w[o]` for `o < count`, int32 wrapping, eight then four lanes at a time: with the
/// channel count known only at run time (and `dst`, `w` possibly aliasing for the compiler) the plain
/// loop stays scalar.
@inline(__always)
func multiplyAdd(into dst: UnsafeMutablePointer<Int32>, _ w: UnsafePointer<Int32>, _ x: Int32, count: Int) {
    var o = 0
    let x8 = SIMD8<Int32>(repeating: x)
    while o &+ 8 <= count {
        let d = UnsafeMutableRawPointer(dst + o), s = UnsafeRawPointer(w + o)
        d.storeBytes(of: d.loadUnaligned(as: SIMD8<Int32>.self) &+ x8 &* s.loadUnaligned(as: SIMD8<Int32>.self), as: SIMD8<Int32>.self)
        o &+= 8
    }
    if o &+ 4 <= count {
        let d = UnsafeMutableRawPointer(dst + o), s = UnsafeRawPointer(w + o)
        d.storeBytes(of: d.loadUnaligned(as: SIMD4<Int32>.self) &+ SIMD4(repeating: x) &* s.loadUnaligned(as: SIMD4<Int32>.self),
                     as: SIMD4<Int32>.self)
        o &+= 4
    }
    while o < count {
        dst[o] = dst[o] &+ x &* w[o]
        o &+= 1
    }
}
