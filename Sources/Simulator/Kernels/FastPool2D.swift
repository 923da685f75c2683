import CKernels

/// `maxPool2D` and `averagePool2D` with the same windows and math as `ReferenceMaxPool2D` /
/// `ReferenceAveragePool2D` (padding excluded, an empty window gives `zin`; the average is `roundedMean`
/// of the sum, then the clamp), channels innermost so every window pixel is one contiguous
/// vectorisable pass over the channels, and output rows (batch x outH) split over `threads`. Max pools
/// and narrow average pools run a row at a time in the active level's C kernels (`qc_maxpool_row_i32`,
/// `qc_avgpool_row_i32`). A max pool built `requantizing:` a conv's parameters pools that conv's sums
/// and requantizes each maximum (`ConvPoolFusion`).
///
/// Average pools over inputs of at most 16 bits with at most 2^13 pixels per window sum in int32
/// (|sum| < 2^28) and divide by multiplying: `floor(a / n) = (a * magic[n]) >> shift[n]` for every
/// `0 <= a < 2^30` (`a = |sum| + n / 2`), with `l = ceil(log2 n)`, `shift = 30 + l` and
/// `magic = floor(2^shift / n) + 1` (Granlund and Montgomery 1994, theorem 4.2: `2^shift <= magic * n
/// <= 2^shift + 2^l`), the sign put back after. Wider inputs sum in int64 and divide through an exact
/// Double quotient.
final class FastPool2D: IntegerLayer {
    let p: PoolParams
    let isMax: Bool
    /// Int32 sums and the multiply-shift division (average pools only).
    let narrow: Bool
    /// Indexed by the window's pixel count, 1 ... kernelH * kernelW (index 0 unused).
    let magic: [UInt64], shift: [UInt64]
    /// A max pool over a conv's sums (`ConvPoolFusion`): the conv's requantization and bias, applied to
    /// each window's maximum.
    let requantizer: ChannelRequantizer?, bias: [Int32]

    init(_ params: PoolParams, isMax: Bool, inputBits: Int, requantizing: (ChannelRequantizer, bias: [Int32])? = nil) {
        p = params; self.isMax = isMax
        requantizer = requantizing?.0; bias = requantizing?.bias ?? []
        let window = params.kernelH * params.kernelW
        narrow = !isMax && inputBits <= 16 && window <= 1 << 13
        var magic = [UInt64](repeating: 0, count: window + 1), shift = magic
        if narrow {
            for n in 1...window { (magic[n], shift[n]) = Self.divisionMagic(n) }
        }
        self.magic = magic; self.shift = shift
    }

    /// `(magic, shift)` with `floor(a / n) = (a * magic) >> shift` for `0 <= a < 2^30`, `1 <= n <= 2^13`.
    static func divisionMagic(_ n: Int) -> (magic: UInt64, shift: UInt64) {
        let l = UInt64(Int.bitWidth - (n - 1).leadingZeroBitCount)  // ceil(log2 n); 0 for n = 1
        let shift = 30 + l
        return ((UInt64(1) << shift) / UInt64(n) + 1, shift)
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        guard output.count > 0 else { return }
        let input = inputs[0].baseAddress!, out = output.baseAddress!
        let p = self.p, channels = p.channels, narrow = self.narrow
        if isMax {
            // One output row per call of the active level's kernel (the window's maximum held in vector
            // registers, 8 or 16 channels at a time; an empty window gives zin, as below).
            let requantizer = self.requantizer
            bias.withUnsafeBufferPointer { bias in
                parallelChunks(batch * p.outH, threads: threads) { rows in
                    for row in rows {
                        let b = row / p.outH, outY = row % p.outH, target = out + row &* p.outW &* channels
                        qc_maxpool_row_i32(input + b &* p.inH &* p.inW &* channels, p.inH, p.inW, channels, p.kernelH, p.kernelW,
                                           p.strideH, p.strideW, p.padTop, p.padLeft, outY, p.outW, p.zero, target)
                        // In place: each row of channels is read before it is written.
                        if let requantizer, let bias = bias.baseAddress {
                            requantizer.requantizeRows(target, ldc: channels, rows: p.outW, channels: channels, bias: bias,
                                                       firstChannel: 0, into: target, outStride: channels)
                        }
                    }
                }
            }
            return
        }
        magic.withUnsafeBufferPointer { magic in
            shift.withUnsafeBufferPointer { shift in
                if narrow {
                    // The int32 sums and the multiply-shift division in the active level's kernel.
                    let empty = Swift.min(Swift.max(p.zero, p.lower), p.upper)
                    parallelChunks(batch * p.outH, threads: threads) { rows in
                        for row in rows {
                            let b = row / p.outH, outY = row % p.outH
                            qc_avgpool_row_i32(input + b &* p.inH &* p.inW &* channels, p.inH, p.inW, channels, p.kernelH,
                                               p.kernelW, p.strideH, p.strideW, p.padTop, p.padLeft, outY, p.outW,
                                               magic.baseAddress!, shift.baseAddress!, empty, p.lower, p.upper,
                                               out + row &* p.outW &* channels)
                        }
                    }
                    return
                }
                parallelChunks(batch * p.outH, threads: threads) { rows in
                    let sums = UnsafeMutablePointer<Int64>.allocate(capacity: channels)
                    defer { sums.deallocate() }
                    for row in rows {
                        let b = row / p.outH, outY = row % p.outH
                        for outX in 0..<p.outW {
                            let (ys, xs) = p.window(outY, outX)
                            let dst = out + ((b &* p.outH &+ outY) &* p.outW &+ outX) &* channels
                            if ys.isEmpty || xs.isEmpty {
                                // The reference's mean of an empty window is zin, then the clamp.
                                let value = Swift.min(Swift.max(p.zero, p.lower), p.upper)
                                for c in 0..<channels { dst[c] = value }
                                continue
                            }
                            for c in 0..<channels { sums[c] = 0 }
                            forEachPixel(of: input, sample: b, ys, xs) { src in
                                for c in 0..<channels { sums[c] &+= Int64(src[c]) }
                            }
                            let count = ys.count * xs.count
                            let half = Int64(count / 2), n = Double(count)
                            for c in 0..<channels {
                                // roundedMean without an int64 division: the numerator is below 2^53 in magnitude
                                // (count * 2^31 at most), so the Double quotient truncates to the same integer
                                // (a non-integer quotient lies at least 1/count from the nearest integer, more
                                // than its rounding error).
                                let sum = sums[c], numerator = sum >= 0 ? sum &+ half : sum &- half
                                let mean = Int32(truncatingIfNeeded: Int64((Double(numerator) / n).rounded(.towardZero)))
                                dst[c] = Swift.min(Swift.max(mean, p.lower), p.upper)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `body(src)` with the first channel of each input pixel of sample `b` in the window `ys x xs`.
    @inline(__always)
    private func forEachPixel(of input: UnsafePointer<Int32>, sample b: Int, _ ys: Range<Int>, _ xs: Range<Int>,
                              _ body: (UnsafePointer<Int32>) -> Void) {
        for inY in ys {
            for inX in xs { body(input + ((b &* p.inH &+ inY) &* p.inW &+ inX) &* p.channels) }
        }
    }
}

/// `globalAveragePool2D` / `globalMaxPool2D` as `ReferenceGlobalPool2D` computes them (`[H, W, C] -> [C]`;
/// the average is `roundedMean` of an int64 sum, then the clamp), samples split over `threads`. Sixteen
/// channels at a time run down the pixels in one vector: maxima, or sums in int32 where they are exact
/// (`pixels * 2^inputBits <= Int32.max`, every input inside its `inputBits`-bit type), else in int64.
final class FastGlobalPool2D: IntegerLayer {
    let reference: ReferenceGlobalPool2D
    /// Whether int32 sums of a channel's pixels cannot overflow.
    let sumsFitInt32: Bool

    init(_ reference: ReferenceGlobalPool2D, inputBits: Int) {
        self.reference = reference
        sumsFitInt32 = inputBits < 31 && reference.pixels <= Int(Int32.max) >> inputBits
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        guard output.count > 0 else { return }
        let r = reference, pixels = r.pixels, channels = r.channels, narrow = sumsFitInt32
        let input = inputs[0].baseAddress!, out = output.baseAddress!
        let whole = channels & ~15
        parallelChunks(batch, threads: threads) { samples in
            let sums = UnsafeMutablePointer<Int64>.allocate(capacity: channels)
            defer { sums.deallocate() }
            for b in samples {
                let dst = out + b &* channels, first = input + b &* pixels &* channels
                var c = 0
                while c < whole {
                    let lane = UnsafeRawPointer(first + c), step = channels &* 4
                    if r.isMax {
                        var best = SIMD16<Int32>(repeating: .min)
                        for pixel in 0..<pixels {
                            best = pointwiseMax(best, lane.loadUnaligned(fromByteOffset: pixel &* step, as: SIMD16<Int32>.self))
                        }
                        UnsafeMutableRawPointer(dst + c).storeBytes(of: best, as: SIMD16<Int32>.self)
                    } else if narrow {
                        var sum = SIMD16<Int32>()
                        for pixel in 0..<pixels { sum &+= lane.loadUnaligned(fromByteOffset: pixel &* step, as: SIMD16<Int32>.self) }
                        for j in 0..<16 { sums[c &+ j] = Int64(sum[j]) }
                    } else {
                        var low = SIMD8<Int64>(), high = SIMD8<Int64>()
                        for pixel in 0..<pixels {
                            let x = lane.loadUnaligned(fromByteOffset: pixel &* step, as: SIMD16<Int32>.self)
                            low &+= SIMD8<Int64>(truncatingIfNeeded: x.lowHalf)
                            high &+= SIMD8<Int64>(truncatingIfNeeded: x.highHalf)
                        }
                        for j in 0..<8 { sums[c &+ j] = low[j]; sums[c &+ 8 &+ j] = high[j] }
                    }
                    c &+= 16
                }
                // The last channels one at a time.
                for c in whole..<channels {
                    if r.isMax {
                        var best = Int32.min
                        for pixel in 0..<pixels { best = Swift.max(best, first[pixel &* channels &+ c]) }
                        dst[c] = best
                    } else {
                        var sum: Int64 = 0
                        for pixel in 0..<pixels { sum &+= Int64(first[pixel &* channels &+ c]) }
                        sums[c] = sum
                    }
                }
                if !r.isMax {
                    for c in 0..<channels { dst[c] = Swift.min(Swift.max(roundedMean(sums[c], pixels), r.lower), r.upper) }
                }
            }
        }
    }
}
