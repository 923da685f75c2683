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

    private init(a: UnsafeMutableRawPointer, c: UnsafeMutablePointer<Int32>, lda: Int, ldc: Int) {
        self.a = a; self.c = c; self.lda = lda; self.ldc = ldc
    }

    func deallocate() { a.deallocate(); c.deallocate() }

    /// Calls `body` with this thread's cached scratch (`ThreadScratch` slots 0 and 1), not zeroed: the
    /// A values past K and the rows past a short block's end hold stale bytes, harmless because the
    /// packed weights are zero past K (so those columns add exact zeros) and the C rows past the block
    /// are never read.
    static func withCached<R>(weights: PackedGEMMWeights, _ body: (GEMMScratch) -> R) -> R {
        let lda = weights.paddedK, ldc = weights.panels * 16
        return ThreadScratch.withBytes(slot: 0, count: blockRows * lda * weights.path.elementSize) { a in
            ThreadScratch.withBytes(slot: 1, count: blockRows * ldc * 4) { c in
                body(GEMMScratch(a: a, c: c.bindMemory(to: Int32.self, capacity: blockRows * ldc), lda: lda, ldc: ldc))
            }
        }
    }
}
