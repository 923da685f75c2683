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
        let input = inputs[0].baseAddress!, out = output.baseAddress!
        let rows = batch * p.outH * p.outW
        adjustedBias.withUnsafeBufferPointer { bias in
            let bias = bias.baseAddress!
            parallelChunks(rows, threads: threads, alignment: 4) { range in
                let scratch = GEMMScratch(weights: packed[0])
                defer { scratch.deallocate() }
                var first = range.lowerBound
                while first < range.upperBound {
                    let count = Swift.min(GEMMScratch.blockRows, range.upperBound - first)
                    for g in 0..<p.groups {
                        switch path {
                        case .s16: im2col(input, rows: first..<first + count, group: g, into: scratch.a.assumingMemoryBound(to: Int16.self), lda: scratch.lda)
                        case .u8: im2col(input, rows: first..<first + count, group: g, into: scratch.a.assumingMemoryBound(to: UInt8.self), lda: scratch.lda)
                        }
                        packed[g].multiply(a: scratch.a, lda: scratch.lda, rows: (count + 3) & ~3, c: scratch.c, ldc: scratch.ldc)
                        let channel0 = g * p.outChannelsPerGroup
                        p.requant.requantizeRows(scratch.c, ldc: scratch.ldc, rows: count, channels: p.outChannelsPerGroup,
                                                 bias: bias + channel0, firstChannel: channel0,
                                                 into: out + (first &* p.outC &+ channel0), outStride: p.outC)
                    }
                    first += count
                }
            }
        }
    }

    /// Writes one A row per output pixel in `rows` (flat over batch, outY, outX): for each tap
    /// `(filterY, filterX)` the group's `inC / groups` values `x - inputOffset`, or `paddingValue` for a tap
    /// in the padding. Positions `K ..< lda` are never written (the scratch starts zeroed).
    ///
    /// Works tap by tap over runs of pixels in one output row, so the bounds are checked once per run
    /// (the valid `outX` range of a tap is looked up, `columnLow` / `columnHigh`, not tested per pixel, and
    /// the run's position advances without a division) and a 1-channel stem copies one
    /// value per pixel and tap in a branch-free loop.
    private func im2col<T: FixedWidthInteger>(_ input: UnsafePointer<Int32>, rows: Range<Int>, group: Int,
                                              into a: UnsafeMutablePointer<T>, lda: Int) {
        columnLow.withUnsafeBufferPointer { columnLow in
            columnHigh.withUnsafeBufferPointer { columnHigh in
                im2colRuns(input, rows: rows, group: group, into: a, lda: lda, columnLow: columnLow.baseAddress!, columnHigh: columnHigh.baseAddress!)
            }
        }
    }

    @inline(__always)
    private func im2colRuns<T: FixedWidthInteger>(_ input: UnsafePointer<Int32>, rows: Range<Int>, group: Int, into a: UnsafeMutablePointer<T>,
                                                  lda: Int, columnLow: UnsafePointer<Int>, columnHigh: UnsafePointer<Int>) {
        let cinG = p.inChannelsPerGroup
        let fill = T(truncatingIfNeeded: paddingValue)
        let offset = inputOffset
        let xStep = p.strideW &* p.inC
        var m = rows.lowerBound
        // The first run's (sample, outY, first outX); later runs start at outX 0 of the next output row.
        var b = m / (p.outH &* p.outW), outY = (m / p.outW) % p.outH, x0 = m % p.outW
        while m < rows.upperBound {
            // One run: the pixels of rows that share (sample, outY).
            let x1 = Swift.min(p.outW, x0 &+ (rows.upperBound &- m))
            let rowBase = a + (m &- rows.lowerBound) &* lda
            for filterY in 0..<p.kernelH {
                let inY = outY &* p.strideH &+ filterY &* p.dilationH &- p.padTop
                let rowInside = inY >= 0 && inY < p.inH
                for filterX in 0..<p.kernelW {
                    let tap = rowBase + (filterY &* p.kernelW &+ filterX) &* cinG
                    let shift = filterX &* p.dilationW &- p.padLeft
                    var lo = x0, hi = x0
                    if rowInside {
                        lo = Swift.max(x0, columnLow[filterX])
                        hi = Swift.min(x1, columnHigh[filterX])
                        if hi < lo { hi = lo }
                    }
                    for x in x0..<lo { Self.fill(tap + (x &- x0) &* lda, count: cinG, with: fill) }
                    if lo < hi {
                        var dst = tap + (lo &- x0) &* lda
                        var src = input + (((b &* p.inH &+ inY) &* p.inW &+ lo &* p.strideW &+ shift) &* p.inC &+ group &* cinG)
                        if cinG == 1 {
                            for _ in lo..<hi {
                                dst[0] = T(truncatingIfNeeded: src[0] &- offset)
                                dst += lda; src += xStep
                            }
                        } else {
                            for _ in lo..<hi {
                                for i in 0..<cinG { dst[i] = T(truncatingIfNeeded: src[i] &- offset) }
                                dst += lda; src += xStep
                            }
                        }
                    }
                    for x in Swift.max(lo, hi)..<x1 { Self.fill(tap + (x &- x0) &* lda, count: cinG, with: fill) }
                }
            }
            m &+= x1 &- x0
            x0 = 0; outY &+= 1
            if outY == p.outH { outY = 0; b &+= 1 }
        }
    }

    @inline(__always)
    private static func fill<T: FixedWidthInteger>(_ p: UnsafeMutablePointer<T>, count: Int, with value: T) {
        for i in 0..<count { p[i] = value }
    }
}
