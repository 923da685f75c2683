/// `conv2D` as an int8 GEMM per group: im2col rows of `(x - offset)` (one row per output pixel,
/// `kernelH * kernelW * inC / groups` long) times the group's packed weights, then per channel
/// requantization. Bit-for-bit equal to `ReferenceConv2D` (tested): every sum is exact or wraps the
/// same way in int32.
final class FastConv2D: IntegerLayer {
    let p: ConvParams
    let path: GEMMPath
    /// One per group.
    let packed: [PackedGEMMWeights]
    /// `bias[c]`, minus `(zin - min) * sum w[c]` on the u8 path.
    let adjustedBias: [Int32]
    /// Subtracted from each stored activation: `zin` (s16) or `min(type)` (u8).
    let inputOffset: Int32
    /// The A value of a tap in the padding (real zero): `zin - inputOffset`.
    let paddingValue: Int32
    /// Per `filterX`, the output columns whose tap lies inside the input: `columnLow[fx] ..< columnHigh[fx]`
    /// (empty when `high <= low`), so that im2col divides nothing per run.
    let columnLow: [Int], columnHigh: [Int]
    /// The u8 path's form without im2col (`FastConv2D+Indirect.swift`); nil on the s16 path.
    let indirect: IndirectConvForm?

    init(_ params: ConvParams, path: GEMMPath, inputMin: Int32) {
        p = Self.blockDiagonal(params)
        let params = p
        self.path = path
        let cinG = params.inChannelsPerGroup, coutG = params.outChannelsPerGroup
        let k = params.kernelH * params.kernelW * cinG
        packed = params.weights.withUnsafeBufferPointer { w in
            (0..<params.groups).map { g in
                PackedGEMMWeights(weights: w, n: coutG, k: k, rowStride: k, offset: g * coutG * k, path: path)
            }
        }
        inputOffset = path == .s16 ? params.inputZero : inputMin
        // outX with 0 <= outX * strideW + shift < inW, shift = filterX * dilationW - padLeft.
        let shifts = (0..<params.kernelW).map { $0 * params.dilationW - params.padLeft }
        columnLow = shifts.map { shift in shift >= 0 ? 0 : (-shift + params.strideW - 1) / params.strideW }
        columnHigh = shifts.map { shift in params.inW - shift <= 0 ? 0 : (params.inW - shift - 1) / params.strideW + 1 }
        paddingValue = params.inputZero &- inputOffset
        let offset = params.inputZero &- (path == .s16 ? params.inputZero : inputMin)
        let groupWeights = packed
        adjustedBias = (0..<params.outC).map { c in
            params.bias[c] &- offset &* groupWeights[c / coutG].rowSums[c % coutG]
        }
        indirect = path == .u8 ? IndirectConvForm(params, packed: packed, paddingValue: paddingValue) : nil
    }

    /// A grouped conv whose output channels fit one 16-wide GEMM panel runs as one ungrouped conv with
    /// block-diagonal weights (zeros outside each channel's group): the same multiply-adds as one panel
    /// per group, with one im2col pass and one requantization instead of one per group, and the same
    /// sums (the added products are exact zeros).
    static func blockDiagonal(_ params: ConvParams) -> ConvParams {
        guard params.groups > 1, params.outC <= 16 else { return params }
        let cinG = params.inChannelsPerGroup, coutG = params.outChannelsPerGroup
        let taps = params.kernelH * params.kernelW
        var dense = [Int32](repeating: 0, count: params.outC * taps * params.inC)
        for c in 0..<params.outC {
            let g = c / coutG
            for t in 0..<taps {
                for i in 0..<cinG {
                    dense[(c * taps + t) * params.inC + g * cinG + i] = params.weights[(c * taps + t) * cinG + i]
                }
            }
        }
        var result = params
        result.weights = dense
        result.groups = 1
        return result
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        run(inputs, output, batch: batch, threads: threads, requantize: true)
    }

    /// The int32 sums `sum (x - inputOffset) w` of every output, before `adjustedBias` and
    /// requantization (`ConvSums`, for a max pool that requantizes its maxima instead).
    func runSums(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        run(inputs, output, batch: batch, threads: threads, requantize: false)
    }

    private func run(_ inputs: [UnsafeBufferPointer<Int32>], _ output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int,
                     requantize: Bool) {
        switch path {
        case .s16: run(inputs[0].baseAddress!, output.baseAddress!, batch: batch, threads: threads, as: Int16.self, requantize: requantize)
        case .u8:
            if runsIndirect {
                runIndirect(inputs[0].baseAddress!, output.baseAddress!, batch: batch, threads: threads, requantize: requantize)
            } else {
                run(inputs[0].baseAddress!, output.baseAddress!, batch: batch, threads: threads, as: UInt8.self, requantize: requantize)
            }
        }
    }

    /// Rows `first ..< first + rows` of the output's channels `channel0 ..< channel0 + channels` from the
    /// C block: requantized, or (`requantize` false) the sums as they are.
    @inline(__always)
    func store(_ c: UnsafePointer<Int32>, ldc: Int, rows: Int, first: Int, channel0: Int, channels: Int, requantize: Bool,
               bias: UnsafePointer<Int32>, into out: UnsafeMutablePointer<Int32>) {
        let target = out + (first &* p.outC &+ channel0)
        guard requantize else {
            // 16 sums at a time (a call per row would cost as much as the requantization it saves).
            let whole = channels & ~15
            for r in 0..<rows {
                let src = UnsafeRawPointer(c + r &* ldc), dst = UnsafeMutableRawPointer(target + r &* p.outC)
                var j = 0
                while j < whole {
                    dst.storeBytes(of: src.loadUnaligned(fromByteOffset: j &* 4, as: SIMD16<Int32>.self), toByteOffset: j &* 4,
                                   as: SIMD16<Int32>.self)
                    j &+= 16
                }
                while j < channels { (target + r &* p.outC)[j] = c[r &* ldc &+ j]; j &+= 1 }
            }
            return
        }
        p.requant.requantizeRows(c, ldc: ldc, rows: rows, channels: channels, bias: bias + channel0, firstChannel: channel0,
                                 into: target, outStride: p.outC)
    }

    /// Each thread converts the samples its rows read to the GEMM's A type once (`x - inputOffset`, a
    /// vectorised pass), then builds A blocks from them by plain copies: a value is converted once
    /// instead of once per tap that reads it.
    private func run<T: FixedWidthInteger>(_ input: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int32>, batch: Int,
                                           threads: Int, as: T.Type, requantize: Bool) {
        let pixels = p.outH * p.outW, sampleSize = p.inH * p.inW * p.inC
        let rows = batch * pixels
        adjustedBias.withUnsafeBufferPointer { bias in
            let bias = bias.baseAddress!
            parallelChunks(rows, threads: threads, alignment: 4) { range in
                guard !range.isEmpty else { return }
                if readsRowsInPlace {
                    convolveInPlace(input, rows: range, as: T.self, bias: bias, out, requantize: requantize)
                    return
                }
                GEMMScratch.withCached(weights: packed[0]) { scratch in
                    let samples = (range.lowerBound / pixels)..<((range.upperBound - 1) / pixels + 1)
                    ThreadScratch.withBytes(slot: 2, count: samples.count * sampleSize * MemoryLayout<T>.stride) { bytes in
                        let converted = bytes.bindMemory(to: T.self, capacity: samples.count * sampleSize)
                        convolve(input, converted, samples: samples, rows: range, scratch: scratch, bias: bias, out,
                                 requantize: requantize)
                    }
                }
            }
        }
    }

    /// Rows `range` of the output: the samples they read converted to `T` into `converted`, then
    /// im2col, GEMM and requantization block by block.
    @inline(__always)
    private func convolve<T: FixedWidthInteger>(_ input: UnsafePointer<Int32>, _ converted: UnsafeMutablePointer<T>,
                                                 samples: Range<Int>, rows range: Range<Int>, scratch: GEMMScratch,
                                                 bias: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int32>, requantize: Bool) {
        let sampleSize = p.inH * p.inW * p.inC
        let offset = inputOffset, source = input + samples.lowerBound * sampleSize
        for i in 0..<(samples.count * sampleSize) { converted[i] = T(truncatingIfNeeded: source[i] &- offset) }
        let a = scratch.a.assumingMemoryBound(to: T.self)
        var first = range.lowerBound
        while first < range.upperBound {
            let count = Swift.min(GEMMScratch.blockRows, range.upperBound - first)
            for g in 0..<p.groups {
                im2col(converted, firstSample: samples.lowerBound, rows: first..<first + count, group: g, into: a, lda: scratch.lda)
                packed[g].multiply(a: scratch.a, lda: scratch.lda, rows: (count + 3) & ~3, c: scratch.c, ldc: scratch.ldc)
                store(scratch.c, ldc: scratch.ldc, rows: count, first: first, channel0: g * p.outChannelsPerGroup,
                      channels: p.outChannelsPerGroup, requantize: requantize, bias: bias, into: out)
            }
            first += count
        }
    }

    /// A 1x1 conv with stride 1, no padding and one group whose A row is its input pixel as it lies
    /// (`inC` values, a whole number of K steps): the GEMM reads the converted pixels where they are,
    /// with no im2col copy.
    var readsRowsInPlace: Bool {
        p.kernelH == 1 && p.kernelW == 1 && p.strideH == 1 && p.strideW == 1 && p.padTop == 0 && p.padLeft == 0
            && p.outH == p.inH && p.outW == p.inW && p.groups == 1 && packed[0].paddedK == p.inC
    }

    /// Rows `range` of a conv that `readsRowsInPlace`: those input pixels converted to `T` (plus the up to
    /// 3 rows a short last block of 4 reads past them, whose sums are never stored), then the GEMM and the
    /// requantization block by block, A being the converted pixels themselves.
    private func convolveInPlace<T: FixedWidthInteger>(_ input: UnsafePointer<Int32>, rows range: Range<Int>, as: T.Type,
                                                       bias: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int32>,
                                                       requantize: Bool) {
        let inC = p.inC, values = range.count &* inC
        ThreadScratch.withBytes(slot: 2, count: (values &+ 3 &* inC) &* MemoryLayout<T>.stride) { bytes in
            let converted = bytes.bindMemory(to: T.self, capacity: values &+ 3 &* inC)
            let offset = inputOffset, source = input + range.lowerBound &* inC
            for i in 0..<values { converted[i] = T(truncatingIfNeeded: source[i] &- offset) }
            GEMMScratch.withCached(weights: packed[0]) { scratch in  // its C block; its A block goes unused
                var first = range.lowerBound
                while first < range.upperBound {
                    let count = Swift.min(GEMMScratch.blockRows, range.upperBound &- first)
                    packed[0].multiply(a: UnsafeRawPointer(converted + (first &- range.lowerBound) &* inC), lda: inC,
                                       rows: (count &+ 3) & ~3, c: scratch.c, ldc: scratch.ldc)
                    store(scratch.c, ldc: scratch.ldc, rows: count, first: first, channel0: 0, channels: p.outC,
                          requantize: requantize, bias: bias, into: out)
                    first &+= count
                }
            }
        }
    }

    /// Writes one A row per output pixel in `rows` (flat over batch, outY, outX): for each tap
    /// `(filterY, filterX)` the group's `inC / groups` values of `input` (already `x - inputOffset`, samples
    /// from `firstSample` on), or `paddingValue` for a tap in the padding. Positions `K ..< lda` are never
    /// written (stale bytes there meet the packed weights' zeros past K).
    ///
    /// Works tap by tap over runs of pixels in one output row, so the bounds are checked once per run
    /// (the valid `outX` range of a tap is looked up, `columnLow` / `columnHigh`, not tested per pixel, and
    /// the run's position advances without a division) and a 1-channel stem copies one value per pixel and
    /// tap in a branch-free loop.
    private func im2col<T: FixedWidthInteger>(_ input: UnsafePointer<T>, firstSample: Int, rows: Range<Int>, group: Int,
                                              into a: UnsafeMutablePointer<T>, lda: Int) {
        columnLow.withUnsafeBufferPointer { columnLow in
            columnHigh.withUnsafeBufferPointer { columnHigh in
                im2colRuns(input, firstSample: firstSample, rows: rows, group: group, into: a, lda: lda,
                           columnLow: columnLow.baseAddress!, columnHigh: columnHigh.baseAddress!)
            }
        }
    }

    @inline(__always)
    private func im2colRuns<T: FixedWidthInteger>(_ input: UnsafePointer<T>, firstSample: Int, rows: Range<Int>, group: Int,
                                                  into a: UnsafeMutablePointer<T>, lda: Int,
                                                  columnLow: UnsafePointer<Int>, columnHigh: UnsafePointer<Int>) {
        let cinG = p.inChannelsPerGroup, kernelW = p.kernelW
        // With one group and no horizontal dilation, the kernelW taps of one filter row are one contiguous
        // stretch of the input (kernelW * inC values) for every pixel whose taps all lie inside.
        let wholeRows = p.groups == 1 && p.dilationW == 1
        let rowLength = kernelW &* cinG
        let insideLow = columnLow[0], insideHigh = columnHigh[kernelW &- 1]
        var m = rows.lowerBound
        // The first run's (sample, outY, first outX); later runs start at outX 0 of the next output row.
        var b = m / (p.outH &* p.outW) &- firstSample, outY = (m / p.outW) % p.outH, x0 = m % p.outW
        while m < rows.upperBound {
            // One run: the pixels of rows that share (sample, outY).
            let x1 = Swift.min(p.outW, x0 &+ (rows.upperBound &- m))
            let rowBase = a + (m &- rows.lowerBound) &* lda
            for filterY in 0..<p.kernelH {
                let inY = outY &* p.strideH &+ filterY &* p.dilationH &- p.padTop
                let rowInside = inY >= 0 && inY < p.inH
                let line = input + ((b &* p.inH &+ inY) &* p.inW &* p.inC &+ group &* cinG)
                let taps = rowBase + filterY &* rowLength
                if wholeRows && rowInside {
                    let lo = Swift.min(Swift.max(x0, insideLow), x1), hi = Swift.max(lo, Swift.min(x1, insideHigh))
                    tapByTap(line, taps, pixels: x0..<lo, run: x0, lda: lda, rowInside: true, columnLow: columnLow, columnHigh: columnHigh)
                    var dst = taps + (lo &- x0) &* lda
                    var src = line + (lo &* p.strideW &- p.padLeft) &* p.inC
                    let step = p.strideW &* p.inC
                    for _ in lo..<hi {
                        Self.copy(dst, from: src, count: rowLength)
                        dst += lda; src += step
                    }
                    tapByTap(line, taps, pixels: hi..<x1, run: x0, lda: lda, rowInside: true, columnLow: columnLow, columnHigh: columnHigh)
                } else {
                    tapByTap(line, taps, pixels: x0..<x1, run: x0, lda: lda, rowInside: rowInside, columnLow: columnLow, columnHigh: columnHigh)
                }
            }
            m &+= x1 &- x0
            x0 = 0; outY &+= 1
            if outY == p.outH { outY = 0; b &+= 1 }
        }
    }

    /// The A values of one filter row for the output columns `pixels` of a run starting at column `run`:
    /// tap by tap, `paddingValue` outside the input, a copy of the group's values inside. `line` is the
    /// input row's first value of the group (not read when `rowInside` is false), `taps` the run's first A
    /// row at this filter row.
    @inline(__always)
    private func tapByTap<T: FixedWidthInteger>(_ line: UnsafePointer<T>, _ taps: UnsafeMutablePointer<T>, pixels: Range<Int>, run: Int,
                                                lda: Int, rowInside: Bool, columnLow: UnsafePointer<Int>, columnHigh: UnsafePointer<Int>) {
        guard !pixels.isEmpty else { return }
        let cinG = p.inChannelsPerGroup
        let fill = T(truncatingIfNeeded: paddingValue)
        let xStep = p.strideW &* p.inC
        let x0 = pixels.lowerBound, x1 = pixels.upperBound
        for filterX in 0..<p.kernelW {
            let tap = taps + filterX &* cinG
            var lo = x0, hi = x0
            if rowInside {
                // A tap may reach the input only beyond this run's pixels (a kernel wider than the input).
                lo = Swift.min(Swift.max(x0, columnLow[filterX]), x1)
                hi = Swift.min(x1, columnHigh[filterX])
                if hi < lo { hi = lo }
            }
            for x in x0..<lo { Self.fill(tap + (x &- run) &* lda, count: cinG, with: fill) }
            if lo < hi {
                var dst = tap + (lo &- run) &* lda
                var src = line + (lo &* p.strideW &+ filterX &* p.dilationW &- p.padLeft) &* p.inC
                if cinG == 1 {
                    for _ in lo..<hi {
                        dst[0] = src[0]
                        dst += lda; src += xStep
                    }
                } else {
                    for _ in lo..<hi {
                        Self.copy(dst, from: src, count: cinG)
                        dst += lda; src += xStep
                    }
                }
            }
            for x in Swift.max(lo, hi)..<x1 { Self.fill(tap + (x &- run) &* lda, count: cinG, with: fill) }
        }
    }

    /// `count` values from `src` to `dst` (not overlapping): 32 bytes at a time, then one move each of
    /// 16, 8, 4, 2 and 1 bytes as the remainder needs (a 1-channel stem's 3-tap row is 4 + 2 bytes).
    @inline(__always)
    private static func copy<T: FixedWidthInteger>(_ dst: UnsafeMutablePointer<T>, from src: UnsafePointer<T>, count: Int) {
        let bytes = count &* MemoryLayout<T>.stride
        let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
        var i = 0
        while i &+ 32 <= bytes {
            d.storeBytes(of: s.loadUnaligned(fromByteOffset: i, as: SIMD32<UInt8>.self), toByteOffset: i, as: SIMD32<UInt8>.self)
            i &+= 32
        }
        if bytes &- i >= 16 { move(d, s, at: &i, as: SIMD16<UInt8>.self) }
        if bytes &- i >= 8 { move(d, s, at: &i, as: UInt64.self) }
        if bytes &- i >= 4 { move(d, s, at: &i, as: UInt32.self) }
        if bytes &- i >= 2 { move(d, s, at: &i, as: UInt16.self) }
        if bytes &- i >= 1 { move(d, s, at: &i, as: UInt8.self) }
    }

    @inline(__always)
    private static func move<V>(_ d: UnsafeMutableRawPointer, _ s: UnsafeRawPointer, at i: inout Int, as: V.Type) {
        d.storeBytes(of: s.loadUnaligned(fromByteOffset: i, as: V.self), toByteOffset: i, as: V.self)
        i &+= MemoryLayout<V>.size
    }

    @inline(__always)
    private static func fill<T: FixedWidthInteger>(_ p: UnsafeMutablePointer<T>, count: Int, with value: T) {
        for i in 0..<count { p[i] = value }
    }
}
