/// `conv2DTranspose` as `ReferenceConv2DTranspose`'s scatter, per sample: each input value `x - zin`
/// times its tap's weights of every output channel, added into the output pixel it reaches (the loop
/// over channels vectorises), then `FastConv2D`'s per-channel requantization with the bias. Samples are
/// split over the threads. Bit-for-bit equal to the reference (tested): int32 sums wrap the same way
/// in any order.
final class FastConv2DTranspose: IntegerLayer {
    let p: ConvParams
    /// `[filterY, filterX, inChannel, outChannel]`.
    let taps: [Int32]

    init(_ params: ConvParams) {
        p = params
        let (kh, kw, cin, cout) = (params.kernelH, params.kernelW, params.inC, params.outC)
        var t = [Int32](repeating: 0, count: params.weights.count)
        // Stored weights are [outC, kh, kw, inC].
        for o in 0..<cout {
            for fy in 0..<kh { for fx in 0..<kw { for ci in 0..<cin {
                t[(((fy * kw + fx) * cin + ci) * cout) + o] = params.weights[((o * kh + fy) * kw + fx) * cin + ci]
            } } }
        }
        taps = t
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0].baseAddress!, out = output.baseAddress!
        let p = self.p
        let outSize = p.outH * p.outW * p.outC, inSize = p.inH * p.inW * p.inC
        let outC = p.outC
        taps.withUnsafeBufferPointer { taps in
            p.bias.withUnsafeBufferPointer { bias in
                let taps = taps.baseAddress!, bias = bias.baseAddress!
                parallelChunks(batch, threads: threads) { samples in
                    let acc = UnsafeMutablePointer<Int32>.allocate(capacity: outSize)
                    defer { acc.deallocate() }
                    for b in samples {
                        acc.update(repeating: 0, count: outSize)
                        let x0 = input + b &* inSize
                        for inY in 0..<p.inH {
                            for inX in 0..<p.inW {
                                let src = x0 + (inY &* p.inW &+ inX) &* p.inC
                                for filterY in 0..<p.kernelH {
                                    let outY = inY &* p.strideH &+ filterY &* p.dilationH &- p.padTop
                                    if outY < 0 || outY >= p.outH { continue }
                                    for filterX in 0..<p.kernelW {
                                        let outX = inX &* p.strideW &+ filterX &* p.dilationW &- p.padLeft
                                        if outX < 0 || outX >= p.outW { continue }
                                        let dst = acc + (outY &* p.outW &+ outX) &* outC
                                        let w0 = taps + ((filterY &* p.kernelW &+ filterX) &* p.inC) &* outC
                                        for ci in 0..<p.inC {
                                            let x = src[ci] &- p.inputZero
                                            if x == 0 { continue }
                                            let w = w0 + ci &* outC
                                            multiplyAdd(into: dst, w, x, count: outC)
                                        }
                                    }
                                }
                            }
                        }
                        p.requant.requantizeRows(acc, ldc: outC, rows: p.outH * p.outW, channels: outC, bias: bias, firstChannel: 0,
                                                 into: out + b &* outSize, outStride: outC)
                    }
                }
            }
        }
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
