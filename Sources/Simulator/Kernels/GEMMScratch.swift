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
