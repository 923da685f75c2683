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

    init(_ params: ConvParams, path: GEMMPath, inputMin: Int32) {
        p = params
        self.path = path
        let cinG = params.inChannelsPerGroup, coutG = params.outChannelsPerGroup
        let k = params.kernelH * params.kernelW * cinG
        packed = params.weights.withUnsafeBufferPointer { w in
            (0..<params.groups).map { g in
                PackedGEMMWeights(weights: w, n: coutG, k: k, rowStride: k, offset: g * coutG * k, path: path)
            }
        }
        inputOffset = path == .s16 ? params.inputZero : inputMin
        paddingValue = params.inputZero &- inputOffset
        let offset = params.inputZero &- (path == .s16 ? params.inputZero : inputMin)
        let groupWeights = packed
        adjustedBias = (0..<params.outC).map { c in
            params.bias[c] &- offset &* groupWeights[c / coutG].rowSums[c % coutG]
        }
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
    /// in the padding; then zeros up to `lda`.
    private func im2col<T: FixedWidthInteger>(_ input: UnsafePointer<Int32>, rows: Range<Int>, group: Int,
                                              into a: UnsafeMutablePointer<T>, lda: Int) {
        let cinG = p.inChannelsPerGroup
        let pixels = p.outH &* p.outW
        let fill = T(truncatingIfNeeded: paddingValue)
        for (r, m) in rows.enumerated() {
            let b = m / pixels, rem = m % pixels
            let outY = rem / p.outW, outX = rem % p.outW
            let dst = a + r &* lda
            var index = 0
            for filterY in 0..<p.kernelH {
                let inY = outY &* p.strideH &+ filterY &* p.dilationH &- p.padTop
                for filterX in 0..<p.kernelW {
                    let inX = outX &* p.strideW &+ filterX &* p.dilationW &- p.padLeft
                    let row = dst + index
                    let inside = inY >= 0 && inY < p.inH && inX >= 0 && inX < p.inW
                    if inside {
                        let pixel: Int = (b &* p.inH &+ inY) &* p.inW &+ inX
                        let src = input + (pixel &* p.inC &+ group &* cinG)
                        for i in 0..<cinG { row[i] = T(truncatingIfNeeded: src[i] &- inputOffset) }
                    } else {
                        for i in 0..<cinG { row[i] = fill }
                    }
                    index &+= cinG
                }
            }
            for i in index..<lda { dst[i] = 0 }
        }
    }
}
