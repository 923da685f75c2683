import CKernels

/// `lookupTable` as `ReferenceLookupTable` computes it, `out[i] = table[x[i] - inputMin]`, through the
/// active level's `qc_lookup_i32` (one channel, `vpgatherdd` at avx512), split over `threads`.
final class FastLookupTable: IntegerLayer {
    let reference: ReferenceLookupTable

    init(_ reference: ReferenceLookupTable) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        guard output.count > 0, let x = inputs[0].baseAddress, let out = output.baseAddress else { return }
        let r = reference
        r.table.withUnsafeBufferPointer { table in
            let table = table.baseAddress!
            parallelChunks(output.count, threads: threads, alignment: 16) { range in
                qc_lookup_i32(x + range.lowerBound, range.count, 1, table, r.table.count, r.inputMin, out + range.lowerBound)
            }
        }
    }
}
