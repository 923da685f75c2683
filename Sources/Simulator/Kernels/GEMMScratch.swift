import CInt8Kernels

/// One thread's working memory for a GEMM-based layer: a block of A rows and their int32 results.
struct GEMMScratch {
    /// Rows of A per block: 64 rows x 512 K values stay in L2 while the panels stream through L1.
    static let blockRows = 64

    let a: UnsafeMutableRawPointer
    let c: UnsafeMutablePointer<Int32>
    let lda: Int, ldc: Int

    /// Zero-filled, so rows past the end of the last block hold harmless values.
    init(weights: PackedGEMMWeights) {
        lda = weights.paddedK
        ldc = weights.panels * 16
        let aBytes = Self.blockRows * lda * weights.path.elementSize
        a = UnsafeMutableRawPointer.allocate(byteCount: aBytes, alignment: 64)
        a.initializeMemory(as: UInt8.self, repeating: 0, count: aBytes)
        c = UnsafeMutablePointer<Int32>.allocate(capacity: Self.blockRows * ldc)
    }

    func deallocate() { a.deallocate(); c.deallocate() }
}

extension ChannelRequantizer {
    /// Requantizes `rows` rows of GEMM results: `out[r * outStride + j] = apply(c[r * ldc + j] + bias[j], firstChannel + j)`,
    /// eight channels at a time in `qc_requant_rows` (AVX2: both profiles' 64-bit products with `vpmuldq`;
    /// the remaining channels and non-AVX2 builds take its scalar form). Tested lane for lane against
    /// `RoundingProfile.multiply` (`RequantRowsTests`) and end to end against the reference kernels.
    @inline(__always)
    func requantizeRows(_ c: UnsafePointer<Int32>, ldc: Int, rows: Int, channels: Int, bias: UnsafePointer<Int32>,
                        firstChannel: Int, into out: UnsafeMutablePointer<Int32>, outStride: Int) {
        precondition(firstChannel >= 0 && firstChannel + channels <= significands.count, "requantizeRows: channels out of range")
        significands.withUnsafeBufferPointer { m in
            shifts.withUnsafeBufferPointer { s in
                qc_requant_rows(c, ldc, rows, channels, bias, m.baseAddress! + firstChannel, s.baseAddress! + firstChannel,
                                outputZero, lower, upper, out, outStride, profile == .gemmlowp ? 0 : 1)
            }
        }
    }
}
