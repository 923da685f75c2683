import CKernels

/// `depthwiseConv2D` vectorised over channels: per output pixel, an int32 accumulator row starts at the
/// bias and each tap inside the input adds `(x - zin) * w[tap]` for every channel (weights transposed
/// once to `[kernelH, kernelW, C]`, so the inner loop is contiguous). Taps in the padding add nothing,
/// as in `ReferenceDepthwiseConv2D`; all sums wrap identically. With multiplier 1 a whole output row's
/// sums come from the C kernel of the active level (`qc_depthwise_row_i32`, bias left out: int32 adds
/// wrap, so adding it at the end gives the same integers) and are requantized by `requantizeRows`.
final class FastDepthwiseConv2D: IntegerLayer {
    let p: ConvParams
    /// `[kernelH, kernelW, C]`.
    let tapWeights: [Int32]
    /// A 3x3 dilation-1 conv's weights as int16 pairs `[3][2][C]` for `qc_dw3x3_pairs_row`, where the
    /// active level has that kernel and every input value - zin and every weight fits int16; else nil.
    let pairWeights: [Int32]?

    /// `inputRange`: the values the input's type holds.
    init(_ params: ConvParams, inputRange: ClosedRange<Int64>) {
        p = params
        var t = [Int32](repeating: 0, count: params.weights.count)
        let taps = params.kernelH * params.kernelW
        for c in 0..<params.outC {
            for tap in 0..<taps { t[tap * params.outC + c] = params.weights[c * taps + tap] }
        }
        tapWeights = t
        pairWeights = Self.pairWeights(params, tapWeights: t, inputRange: inputRange)
    }

    private static func pairWeights(_ p: ConvParams, tapWeights: [Int32], inputRange: ClosedRange<Int64>) -> [Int32]? {
        let int16 = Int64(Int16.min)...Int64(Int16.max), zin = Int64(p.inputZero)
        guard qc_dw3x3_pairs_supported() != 0, p.depthMultiplier == 1, p.kernelH == 3, p.kernelW == 3, p.dilationH == 1,
              p.dilationW == 1, int16.contains(inputRange.lowerBound - zin), int16.contains(inputRange.upperBound - zin),
              tapWeights.allSatisfy({ int16.contains(Int64($0)) }) else { return nil }
        let channels = p.outC
        var pairs = [Int32](repeating: 0, count: 6 * channels)
        for fy in 0..<3 {
            for c in 0..<channels {
                let w = { (fx: Int) in UInt32(UInt16(truncatingIfNeeded: tapWeights[(fy * 3 + fx) * channels + c])) }
                pairs[(2 * fy) * channels + c] = Int32(bitPattern: w(0) | w(1) << 16)
                pairs[(2 * fy + 1) * channels + c] = Int32(bitPattern: w(2))
            }
        }
        return pairs
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0].baseAddress!, out = output.baseAddress!
        let channels = p.outC
        // The level active now must still have the pair kernels (`KernelISA.select` may have changed it).
        if let pairWeights, qc_dw3x3_pairs_supported() != 0 {
            runPairs(input: input, out: out, batch: batch, threads: threads, pairWeights: pairWeights)
            return
        }
        if p.depthMultiplier == 1 {
            runRows(input: input, out: out, batch: batch, threads: threads)
            return
        }
        tapWeights.withUnsafeBufferPointer { weights in
            p.bias.withUnsafeBufferPointer { bias in
                let weights = weights.baseAddress!, bias = bias.baseAddress!
                parallelChunks(batch * p.outH, threads: threads) { range in
                    let acc = UnsafeMutablePointer<Int32>.allocate(capacity: channels)
                    let expanded = UnsafeMutablePointer<Int32>.allocate(capacity: channels)
                    defer { acc.deallocate(); expanded.deallocate() }
                    for row in range {
                        let b = row / p.outH, outY = row % p.outH
                        for outX in 0..<p.outW {
                            for c in 0..<channels { acc[c] = bias[c] }
                            for filterY in 0..<p.kernelH {
                                let inY = outY &* p.strideH &+ filterY &* p.dilationH &- p.padTop
                                if inY < 0 || inY >= p.inH { continue }
                                for filterX in 0..<p.kernelW {
                                    let inX = outX &* p.strideW &+ filterX &* p.dilationW &- p.padLeft
                                    if inX < 0 || inX >= p.inW { continue }
                                    var x = input + ((b &* p.inH &+ inY) &* p.inW &+ inX) &* p.inC
                                    if p.depthMultiplier > 1 {
                                        for c in 0..<channels { expanded[c] = x[c / p.depthMultiplier] }
                                        x = UnsafePointer(expanded)
                                    }
                                    let w = weights + (filterY &* p.kernelW &+ filterX) &* channels
                                    let zin = p.inputZero
                                    for c in 0..<channels { acc[c] = acc[c] &+ (x[c] &- zin) &* w[c] }
                                }
                            }
                            let dst = out + ((b &* p.outH &+ outY) &* p.outW &+ outX) &* channels
                            for c in 0..<channels { dst[c] = p.requant.apply(acc[c], channel: c) }
                        }
                    }
                }
            }
        }
    }

    /// Multiplier 1: each output row's sums from `qc_depthwise_row_i32`, then `requantizeRows`. A padded
    /// 3x3 dilation-1 conv first copies each sample it reads into a padded image (`paddedShape`), the
    /// padding value `zin` around it, so that every pixel takes the kernel's all-taps-inside path: a tap
    /// on `zin` adds `(zin - zin) * w = 0`, as a tap in the padding adds nothing.
    private func runRows(input: UnsafePointer<Int32>, out: UnsafeMutablePointer<Int32>, batch: Int, threads: Int) {
        let channels = p.outC, outW = p.outW
        tapWeights.withUnsafeBufferPointer { weights in
            let weights = weights.baseAddress!
            guard let (height, width) = paddedShape else {
                forEachRow(input, out, batch: batch, threads: threads, imageSize: 0, prepare: { _, _ in }) { sample, outY, acc in
                    qc_depthwise_row_i32(sample, p.inH, p.inW, channels, weights, p.inputZero, p.kernelH, p.kernelW, p.strideH,
                                         p.strideW, p.dilationH, p.dilationW, p.padTop, p.padLeft, outY, outW, acc)
                }
                return
            }
            forEachRow(input, out, batch: batch, threads: threads, imageSize: height * width * channels, prepare: { sample, image in
                padImage(sample, height: height, width: width, into: image)
            }) { image, outY, acc in
                qc_depthwise_row_i32(image, height, width, channels, weights, p.inputZero, 3, 3, p.strideH, p.strideW, 1, 1, 0, 0,
                                     outY, outW, acc)
            }
        }
    }

    /// 3x3, dilation 1, `pairWeights`: each sample a row reads becomes an image of int16 pairs
    /// (`qc_dw3x3_pairs_build`, the padding 0 after the zero point comes out), then each output row's
    /// sums come from `qc_dw3x3_pairs_row` and are requantized by `requantizeRows`.
    private func runPairs(input: UnsafePointer<Int32>, out: UnsafeMutablePointer<Int32>, batch: Int, threads: Int,
                          pairWeights: [Int32]) {
        let channels = p.outC, outW = p.outW
        let (height, width) = paddedShape ?? (p.inH, p.inW)
        pairWeights.withUnsafeBufferPointer { weights in
            let weights = weights.baseAddress!
            forEachRow(input, out, batch: batch, threads: threads, imageSize: height * width * channels, prepare: { sample, image in
                qc_dw3x3_pairs_build(sample, p.inH, p.inW, channels, p.inputZero, p.padTop, p.padLeft, height, width, image)
            }) { image, outY, acc in
                qc_dw3x3_pairs_row(image, width, channels, weights, p.strideH, p.strideW, outY, outW, acc)
            }
        }
    }

    /// Every output row of `batch` samples, in chunks over `threads`: `sums(source, outY, acc)` gives a
    /// row's accumulators before bias and `requantizeRows` writes them. With `imageSize > 0` the source
    /// is a per-thread image that `prepare(sample, image)` rebuilds once per sample a chunk reads; with
    /// 0 it is the sample itself.
    ///
    /// Consecutive rows are requantized together, `rowsPerRequant` at a time (output rows are
    /// contiguous across samples too): a call's fixed cost (its per-block constants) is paid once per
    /// `minimumRequantPixels` pixels rather than once per row of 7-26.
    @inline(__always)
    private func forEachRow(_ input: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int32>, batch: Int, threads: Int,
                            imageSize: Int, prepare: (UnsafePointer<Int32>, UnsafeMutablePointer<Int32>) -> Void,
                            sums: (UnsafePointer<Int32>, Int, UnsafeMutablePointer<Int32>) -> Void) {
        let channels = p.outC, outW = p.outW, sampleSize = p.inH * p.inW * p.inC
        let group = rowsPerRequant, rowValues = outW * channels, accCount = Swift.max(1, group * rowValues)
        p.bias.withUnsafeBufferPointer { bias in
            let bias = bias.baseAddress!
            parallelChunks(batch * p.outH, threads: threads) { range in
                ThreadScratch.withBytes(slot: 1, count: accCount * 4) { accBytes in
                    ThreadScratch.withBytes(slot: 2, count: Swift.max(1, imageSize) * 4) { bytes in
                        let acc = accBytes.bindMemory(to: Int32.self, capacity: accCount)
                        let image = bytes.bindMemory(to: Int32.self, capacity: Swift.max(1, imageSize))
                        var sample = -1
                        var first = range.lowerBound
                        while first < range.upperBound {
                            let rows = Swift.min(group, range.upperBound - first)
                            for row in first..<(first + rows) {
                                let b = row / p.outH, outY = row % p.outH
                                if imageSize > 0 && b != sample {
                                    prepare(input + b &* sampleSize, image)
                                    sample = b
                                }
                                sums(imageSize > 0 ? UnsafePointer(image) : input + b &* sampleSize, outY,
                                     acc + (row &- first) &* rowValues)
                            }
                            p.requant.requantizeRows(acc, ldc: channels, rows: rows &* outW, channels: channels, bias: bias,
                                                     firstChannel: 0, into: out + first &* rowValues, outStride: channels)
                            first &+= rows
                        }
                    }
                }
            }
        }
    }

    /// Pixels per `requantizeRows` call, at least: a GEMM block's worth.
    static let minimumRequantPixels = 64

    /// Output rows requantized per call: enough rows for `minimumRequantPixels` pixels.
    private var rowsPerRequant: Int { Swift.max(1, (Self.minimumRequantPixels + p.outW - 1) / Swift.max(p.outW, 1)) }

    /// The padded image's rows and columns for a 3x3 dilation-1 conv with padding (the input plus the
    /// padding on each side that a tap reaches); nil for other convs, which run on the input as it is.
    private var paddedShape: (Int, Int)? {
        guard p.kernelH == 3, p.kernelW == 3, p.dilationH == 1, p.dilationW == 1 else { return nil }
        let height = Swift.max((p.outH - 1) * p.strideH + 3, p.padTop + p.inH)
        let width = Swift.max((p.outW - 1) * p.strideW + 3, p.padLeft + p.inW)
        return height == p.inH && width == p.inW ? nil : (height, width)
    }

    /// One sample into `image` (`height x width x C`): its rows at `(padTop, padLeft)`, `zin` elsewhere.
    private func padImage(_ sample: UnsafePointer<Int32>, height: Int, width: Int, into image: UnsafeMutablePointer<Int32>) {
        let channels = p.inC, zin = p.inputZero
        let rowCount = width &* channels, left = p.padLeft &* channels, line = p.inW &* channels
        let right = rowCount &- left &- line
        for y in 0..<height {
            let row = image + y &* rowCount, inY = y &- p.padTop
            guard inY >= 0 && inY < p.inH else {
                row.initialize(repeating: zin, count: rowCount)
                continue
            }
            row.initialize(repeating: zin, count: left)
            (row + left).initialize(from: sample + inY &* line, count: line)
            (row + (left &+ line)).initialize(repeating: zin, count: right)
        }
    }
}
