
/// `multiply`, the per-element math of `ReferenceMultiply` unchanged,
///
///     acc = (q_0 - z_0) * (q_1 - z_1),   q = clamp(zout + multiply(acc, m))
///
/// over `threads` contiguous chunks: the products in a loop that vectorises (int32, wrapping), then
/// the requantization in place (`requantizeInPlace`).
final class FastMultiply: IntegerLayer {
    let reference: ReferenceMultiply

    init(_ reference: ReferenceMultiply) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let r = reference
        guard output.count > 0 else { return }
        let x0 = inputs[0].baseAddress!, x1 = inputs[1].baseAddress!, out = output.baseAddress!
        let z0 = r.zero0, z1 = r.zero1, requant = r.requant.perTensor
        if let b = r.broadcast {
            // Channel broadcast: whole pixels per chunk, the 1 x 1 x C operand read per pixel.
            let full = b.input == 0 ? x1 : x0, small = b.input == 0 ? x0 : x1
            let zFull = b.input == 0 ? z1 : z0, zSmall = b.input == 0 ? z0 : z1
            let channels = b.channels, pixelsPerSample = b.perSample / channels
            parallelChunks(output.count / channels, threads: threads, alignment: 1) { pixels in
                for pixel in pixels {
                    let base = pixel &* channels, scales = small + (pixel / pixelsPerSample) &* channels
                    for c in 0..<channels { out[base &+ c] = (full[base &+ c] &- zFull) &* (scales[c] &- zSmall) }
                }
                requant.requantizeInPlace(out + pixels.lowerBound &* channels, count: pixels.count &* channels)
            }
            return
        }
        parallelChunks(output.count, threads: threads, alignment: 64) { range in
            for i in range { out[i] = (x0[i] &- z0) &* (x1[i] &- z1) }
            requant.requantizeInPlace(out + range.lowerBound, count: range.count)
        }
    }
}
