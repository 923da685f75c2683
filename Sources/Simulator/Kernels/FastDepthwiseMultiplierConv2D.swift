/// `depthwiseConv2D` with depth multiplier `dm > 1`, without a division per channel per tap: the input
/// is first expanded once to `[batch, inH, inW, inC * dm]` holding `x[.., c / dm] - zin` (an inner loop
/// over `m < dm`, so no division at all), then that expanded tensor runs through a multiplier-1
/// `FastDepthwiseConv2D` over `outC = inC * dm` channels with zero point 0 and the same weights, bias
/// and requantization:
///
///     acc[c] = bias[c] + sum over taps inside the input of expanded[inY, inX, c] * w[tap, c]
///
/// so a 3x3 conv takes the int16 pair kernels where the level has them (taps in the padding add
/// `0 * w`, nothing, as they do in `ReferenceDepthwiseConv2D`). The products and wrapping int32 sums are
/// the reference's (int32 adds wrap, so the order does not change them). Both phases split rows over
/// `threads`.
final class FastDepthwiseMultiplierConv2D: IntegerLayer {
    let p: ConvParams
    /// The multiplier-1 conv over the expanded input.
    let expandedConv: FastDepthwiseConv2D

    /// `inputRange`: the values the input's type holds.
    init(_ params: ConvParams, inputRange: ClosedRange<Int64>) {
        p = params
        var inner = params
        inner.inC = params.outC
        inner.depthMultiplier = 1
        inner.inputZero = 0
        let zin = Int64(params.inputZero)
        expandedConv = FastDepthwiseConv2D(inner, inputRange: (inputRange.lowerBound - zin)...(inputRange.upperBound - zin))
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        guard output.count > 0 else { return }
        let count = batch * p.inH * p.inW * p.outC
        // One thread (each worker's own passes) keeps the expanded input in its scratch; threads that
        // share the expansion share one allocation.
        guard threads > 1 else {
            ThreadScratch.withBytes(slot: 3, count: count * 4) { bytes in
                run(inputs[0], expanded: bytes.bindMemory(to: Int32.self, capacity: count), output, batch: batch, threads: threads)
            }
            return
        }
        let expanded = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        defer { expanded.deallocate() }
        run(inputs[0], expanded: expanded, output, batch: batch, threads: threads)
    }

    private func run(_ input: UnsafeBufferPointer<Int32>, expanded: UnsafeMutablePointer<Int32>,
                     _ output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let p = self.p, channels = p.outC, dm = p.depthMultiplier, zin = p.inputZero
        let input = input.baseAddress!
        let inPixels = batch * p.inH * p.inW
        // Flat: input value i (pixel * inC + channel) becomes expanded values i * dm ..< (i + 1) * dm.
        parallelChunks(inPixels, threads: threads, alignment: 16) { pixels in
            let first = pixels.lowerBound &* p.inC, end = pixels.upperBound &* p.inC
            if dm == 2 {
                // The common multiplier as two plain stores, which the compiler vectorises.
                for i in first..<end {
                    let v = input[i] &- zin
                    expanded[2 &* i] = v
                    expanded[2 &* i &+ 1] = v
                }
                return
            }
            for i in first..<end {
                let v = input[i] &- zin, row = expanded + i &* dm
                for m in 0..<dm { row[m] = v }
            }
        }
        expandedConv.run(inputs: [UnsafeBufferPointer(start: expanded, count: inPixels * channels)], output: output, batch: batch,
                         threads: threads)
    }
}
