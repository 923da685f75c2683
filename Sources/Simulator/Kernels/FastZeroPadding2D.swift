/// `zeroPadding2D` as `ReferenceZeroPadding2D` computes it (`zin` outside the input; negative padding
/// crops), one output row at a time: `zin` before and after the columns that come from the input, and
/// those columns as one copy (they are contiguous in both), rows split over `threads`.
final class FastZeroPadding2D: IntegerLayer {
    let reference: ReferenceZeroPadding2D

    init(_ reference: ReferenceZeroPadding2D) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let r = reference, channels = r.channels
        guard output.count > 0, let input = inputs[0].baseAddress else { return }
        let out = output.baseAddress!
        // Output columns xLow ..< xHigh read input columns xLow - left ..< xHigh - left.
        let xLow = Swift.min(Swift.max(r.left, 0), r.outW), xHigh = Swift.max(xLow, Swift.min(r.outW, r.inW + r.left))
        let rowCount = r.outW * channels
        parallelChunks(batch * r.outH, threads: threads) { rows in
            for row in rows {
                let b = row / r.outH, inY = row % r.outH - r.top
                let dst = out + row &* rowCount
                guard inY >= 0 && inY < r.inH && xLow < xHigh else {
                    dst.update(repeating: r.zero, count: rowCount)
                    continue
                }
                dst.update(repeating: r.zero, count: xLow * channels)
                let src = input + ((b &* r.inH &+ inY) &* r.inW &+ (xLow - r.left)) &* channels
                (dst + xLow * channels).update(from: src, count: (xHigh - xLow) * channels)
                (dst + xHigh * channels).update(repeating: r.zero, count: (r.outW - xHigh) * channels)
            }
        }
    }
}
