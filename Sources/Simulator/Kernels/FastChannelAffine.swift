import CKernels
import FixedPoint

/// `channelAffine`, the per-element math of `ReferenceChannelAffine` unchanged,
///
///     acc = (x - zin) * a[c] + b[c],   q = clamp(zout + multiply(acc, m[c]))
///
/// over rows of `channels` values (pixels), split over `threads`.
///
/// An input of at most 8 bits takes one of `2^bits` values per channel, so the output is a table
/// lookup: `table[c * levels + (x - min)]`, each entry the reference's own `apply` of that input
/// (built once, at init; at most 256 entries per channel), done by the active level's
/// `qc_lookup_i32` (`vpgatherdd` at avx512). Wider inputs compute: the products
/// `(x - zin) * a[c]` are written to the output (a loop that vectorises), then `requantizeRows` adds `b`
/// and requantizes them in place, eight channels at a time.
final class FastChannelAffine: IntegerLayer {
    let reference: ReferenceChannelAffine
    /// `inputMin` of the table path.
    let inputMin: Int32
    /// Entries per channel; 0 when the input is wider than 8 bits (no table).
    let levels: Int
    /// `levels` outputs per channel, for inputs `inputMin ..< inputMin + levels`.
    let table: [Int32]

    init(_ reference: ReferenceChannelAffine, inputMin: Int32, inputBits: Int) {
        self.reference = reference
        self.inputMin = inputMin
        guard inputBits <= 8 else { levels = 0; table = []; return }
        let levels = 1 << inputBits
        self.levels = levels
        let r = reference
        table = (0..<(r.channels * levels)).map { i in
            let c = i / levels, x = inputMin + Int32(i % levels)
            return r.requant.apply((x &- r.inputZero) &* r.scale[c] &+ r.offset[c], channel: c)
        }
    }

    /// Whether every channel's output is non-decreasing in its input (table path only), so that a max
    /// pool after this op gives the same values before it (`ConvPoolFusion`).
    var isNonDecreasing: Bool {
        guard levels > 0 else { return false }
        for c in 0..<reference.channels {
            for i in 1..<levels where table[c * levels + i] < table[c * levels + i - 1] { return false }
        }
        return true
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        guard output.count > 0 else { return }
        if levels > 0 { lookUp(inputs[0].baseAddress!, output, threads: threads) } else { compute(inputs[0].baseAddress!, output, threads: threads) }
    }

    private func lookUp(_ x: UnsafePointer<Int32>, _ output: UnsafeMutableBufferPointer<Int32>, threads: Int) {
        let channels = reference.channels, levels = levels, offset = inputMin
        let out = output.baseAddress!
        table.withUnsafeBufferPointer { table in
            let table = table.baseAddress!
            parallelChunks(output.count / channels, threads: threads, alignment: 16) { pixels in
                let first = pixels.lowerBound &* channels
                qc_lookup_i32(x + first, pixels.count &* channels, channels, table, levels, offset, out + first)
            }
        }
    }

    private func compute(_ x: UnsafePointer<Int32>, _ output: UnsafeMutableBufferPointer<Int32>, threads: Int) {
        let r = reference, channels = r.channels, zin = r.inputZero
        let out = output.baseAddress!
        r.scale.withUnsafeBufferPointer { scale in
            r.offset.withUnsafeBufferPointer { offset in
                let a = scale.baseAddress!, b = offset.baseAddress!
                parallelChunks(output.count / channels, threads: threads, alignment: 16) { pixels in
                    for pixel in pixels {
                        let src = x + pixel &* channels, dst = out + pixel &* channels
                        for c in 0..<channels { dst[c] = (src[c] &- zin) &* a[c] }
                    }
                    let first = out + pixels.lowerBound &* channels
                    r.requant.requantizeRows(first, ldc: channels, rows: pixels.count, channels: channels, bias: b,
                                             firstChannel: 0, into: first, outStride: channels)
                }
            }
        }
    }
}
