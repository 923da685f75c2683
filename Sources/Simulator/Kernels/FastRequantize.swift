import FixedPoint

/// `requantize`, the per-element math of `ReferenceRequantize` unchanged (`q = clamp(zout + multiply(q_x - zin, m))`),
/// with the multiplier hoisted, the rounding profile fixed at compile time and the elements split over `threads`.
final class FastRequantize: IntegerLayer {
    let reference: ReferenceRequantize

    init(_ reference: ReferenceRequantize) { self.reference = reference }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        switch reference.requant.profile {
        case .gemmlowp: run(GemmlowpRounding.self, inputs[0], output, threads)
        case .single: run(SingleRounding.self, inputs[0], output, threads)
        }
    }

    private func run<R: StaticRounding>(_ rounding: R.Type, _ input: UnsafeBufferPointer<Int32>,
                                        _ output: UnsafeMutableBufferPointer<Int32>, _ threads: Int) {
        let requant = reference.requant, m = requant.multipliers[0], zin = reference.inputZero
        guard output.count > 0 else { return }
        let x = input.baseAddress!, out = output.baseAddress!
        parallelChunks(output.count, threads: threads, alignment: 64) { range in
            for i in range { out[i] = requant.apply(x[i] &- zin, m, R.self) }
        }
    }
}
