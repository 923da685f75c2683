/// `dense` as an int8 GEMM: rows of `(x - offset)` times the packed weights, then per channel
/// requantization; bit-for-bit equal to `ReferenceDense`.
final class FastDense: IntegerLayer {
    let p: DenseParams
    let path: GEMMPath
    let packed: PackedGEMMWeights
    let adjustedBias: [Int32]
    let inputOffset: Int32

    init(_ params: DenseParams, path: GEMMPath, inputMin: Int32) {
        p = params
        self.path = path
        packed = params.weights.withUnsafeBufferPointer { w in
            PackedGEMMWeights(weights: w, n: params.outFeatures, k: params.inFeatures, rowStride: params.inFeatures, path: path)
        }
        inputOffset = path == .s16 ? params.inputZero : inputMin
        let offset = params.inputZero &- inputOffset
        let sums = packed.rowSums
        adjustedBias = (0..<params.outFeatures).map { params.bias[$0] &- offset &* sums[$0] }
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let input = inputs[0].baseAddress!, out = output.baseAddress!
        let rows = batch * p.rowsPerSample
        adjustedBias.withUnsafeBufferPointer { bias in
            let bias = bias.baseAddress!
            parallelChunks(rows, threads: threads, alignment: 4) { range in
                GEMMScratch.withCached(weights: packed) { scratch in
                    var first = range.lowerBound
                    while first < range.upperBound {
                        let count = Swift.min(GEMMScratch.blockRows, range.upperBound - first)
                        switch path {
                        case .s16: convert(input, rows: first..<first + count, into: scratch.a.assumingMemoryBound(to: Int16.self), lda: scratch.lda)
                        case .u8: convert(input, rows: first..<first + count, into: scratch.a.assumingMemoryBound(to: UInt8.self), lda: scratch.lda)
                        }
                        packed.multiply(a: scratch.a, lda: scratch.lda, rows: (count + 3) & ~3, c: scratch.c, ldc: scratch.ldc)
                        p.requant.requantizeRows(scratch.c, ldc: scratch.ldc, rows: count, channels: p.outFeatures, bias: bias,
                                                 firstChannel: 0, into: out + (first &* p.outFeatures), outStride: p.outFeatures)
                        first += count
                    }
                }
            }
        }
    }

    private func convert<T: FixedWidthInteger>(_ input: UnsafePointer<Int32>, rows: Range<Int>, into a: UnsafeMutablePointer<T>, lda: Int) {
        let k = p.inFeatures
        for (r, m) in rows.enumerated() {
            let src = input + m &* k, dst = a + r &* lda
            for i in 0..<k { dst[i] = T(truncatingIfNeeded: src[i] &- inputOffset) }
            for i in k..<lda { dst[i] = 0 }
        }
    }
}
