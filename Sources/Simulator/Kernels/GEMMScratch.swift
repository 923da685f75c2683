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
    /// Requantizes `rows` rows of GEMM results: `out[r * outStride + j] = apply(c[r * ldc + j] + bias[j], firstChannel + j)`.
    /// The profile is fixed once per call (`StaticRounding`) and the multipliers are read through an
    /// unsafe buffer with their shifts provably in range, so the per-channel loop has no switch, no bounds
    /// check and no precondition and can vectorise; the int32 steps are `apply(_:channel:)`'s.
    @inline(__always)
    func requantizeRows(_ c: UnsafePointer<Int32>, ldc: Int, rows: Int, channels: Int, bias: UnsafePointer<Int32>,
                        firstChannel: Int, into out: UnsafeMutablePointer<Int32>, outStride: Int) {
        switch profile {
        case .gemmlowp:
            requantizeRows(c, ldc: ldc, rows: rows, channels: channels, bias: bias, firstChannel: firstChannel,
                           into: out, outStride: outStride, GemmlowpRounding.self)
        case .single:
            requantizeRows(c, ldc: ldc, rows: rows, channels: channels, bias: bias, firstChannel: firstChannel,
                           into: out, outStride: outStride, SingleRounding.self)
        }
    }

    @inline(__always)
    private func requantizeRows<R: StaticRounding>(_ c: UnsafePointer<Int32>, ldc: Int, rows: Int, channels: Int,
                                                   bias: UnsafePointer<Int32>, firstChannel: Int,
                                                   into out: UnsafeMutablePointer<Int32>, outStride: Int, _ r: R.Type) {
        multipliers.withUnsafeBufferPointer { all in
            let m = all.baseAddress! + firstChannel
            for row in 0..<rows {
                let src = c + row &* ldc, dst = out + row &* outStride
                for j in 0..<channels {
                    dst[j] = apply(src[j] &+ bias[j], m[j], R.self)
                }
            }
        }
    }
}
