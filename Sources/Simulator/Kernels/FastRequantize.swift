/// `requantize`, the per-element math of `ReferenceRequantize` unchanged (`q = clamp(zout + multiply(q_x - zin, m))`):
/// `q_x - zin` written to the output, then requantized in place (`requantizeInPlace`), the elements split
/// over `threads`.
final class FastRequantize: IntegerLayer {
    let reference: ReferenceRequantize

    init(_ reference: ReferenceRequantize) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let requant = reference.requant.perTensor, zin = reference.inputZero
        guard output.count > 0 else { return }
        let x = inputs[0].baseAddress!, out = output.baseAddress!
        parallelChunks(output.count, threads: threads, alignment: 64) { range in
            for i in range { out[i] = x[i] &- zin }
            requant.requantizeInPlace(out + range.lowerBound, count: range.count)
        }
    }
}
