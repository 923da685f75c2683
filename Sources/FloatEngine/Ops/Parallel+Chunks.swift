extension Parallel {
    /// Elements below which a flat elementwise loop runs on one thread: splitting costs ~20 us per call.
    static let minimumChunk = 16_384

    /// Number of chunks to split `count` flat elements into: one per worker, fewer for small counts.
    static func chunkCount(_ count: Int) -> Int {
        max(1, min(workers, count / minimumChunk))
    }

    /// The elements of chunk `chunk` when `count` elements are split `chunkCount(count)` ways.
    static func chunkRange(_ chunk: Int, of count: Int) -> Range<Int> {
        let chunks = chunkCount(count)
        return (count * chunk / chunks)..<(count * (chunk + 1) / chunks)
    }
}
