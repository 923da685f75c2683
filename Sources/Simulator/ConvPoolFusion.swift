import FixedPoint
import QBin

/// A conv2D whose output only a max pool reads, on the unobserved path: the conv stores its int32
/// sums (`ConvSums`) and the pool requantizes each window's maximum with the conv's bias and
/// requantization (`FastPool2D(requantizing:)`), so a 2x2 pool requantizes a quarter of the values.
///
/// Exact, not approximate: the requantization `q(s) = clamp(zout + multiply(s + bias, m), lo, hi)` is
/// non-decreasing in `s` when `m >= 0` and nothing wraps, and for any non-decreasing `q`,
/// `max q(s_i) = q(max s_i)`. Nothing wraps when every channel's bound on `|s + bias|` (the sum of its
/// weights' magnitudes times the largest input magnitude, plus the bias), shifted left by the
/// multiplier's left shift, stays below 2^31. Every window must hold an input pixel (an empty window
/// gives `zin`, not a requantized value). Observed runs keep the separate ops, whose every output is
/// seen.
enum ConvPoolFusion {
    /// `layers` with each fusable conv -> max pool pair of `model` replaced, for passes nothing observes.
    static func unobservedLayers(_ layers: [any IntegerLayer], model: QModel) -> [any IntegerLayer] {
        var readers = [Int](repeating: 0, count: model.tensors.count)
        var reader = [Int](repeating: -1, count: model.tensors.count)
        for (index, op) in model.ops.enumerated() {
            for t in op.inputs { readers[t] += 1; reader[t] = index }
        }
        var result = layers
        for (index, op) in model.ops.enumerated() where op.kind == .conv2D {
            guard let conv = layers[index] as? FastConv2D, let sums = op.outputs.first, op.outputs.count == 1,
                  readers[sums] == 1, !model.outputs.contains(sums), model.ops[reader[sums]].kind == .maxPool2D,
                  let pool = layers[reader[sums]] as? FastPool2D, pool.isMax, pool.requantizer == nil,
                  everyWindowHoldsAPixel(pool.p), nothingWraps(conv, inputType: model.tensors[op.inputs[0]].type)
            else { continue }
            result[index] = ConvSums(conv)
            result[reader[sums]] = FastPool2D(pool.p, isMax: true, inputBits: 32, requantizing: (conv.p.requant, conv.adjustedBias))
        }
        return result
    }

    static func everyWindowHoldsAPixel(_ p: PoolParams) -> Bool {
        for y in 0..<p.outH {
            for x in 0..<p.outW {
                let (ys, xs) = p.window(y, x)
                if ys.isEmpty || xs.isEmpty { return false }
            }
        }
        return true
    }

    /// Every channel's multiplier is non-negative and `(|s| + |bias|) << max(shift, 0) < 2^31` for every
    /// sum `s` the conv can produce from inputs of `inputType`.
    static func nothingWraps(_ conv: FastConv2D, inputType: QType) -> Bool {
        let p = conv.p
        let low = inputType.minValue - Int64(conv.inputOffset), high = inputType.maxValue - Int64(conv.inputOffset)
        let largest = Swift.max(Swift.abs(low), Swift.abs(high))
        let k = p.kernelH * p.kernelW * p.inChannelsPerGroup
        let multipliers = p.requant.multipliers
        guard multipliers.count == p.outC else { return false }
        for c in 0..<p.outC {
            let m = multipliers[c]
            guard m.multiplier >= 0 else { return false }
            var weights: Int64 = 0
            for i in 0..<k { weights += Swift.abs(Int64(p.weights[c * k + i])) }
            let bound = weights * largest + Swift.abs(Int64(conv.adjustedBias[c]))
            guard bound < (Int64(1) << 31) >> Int64(Swift.max(m.shift, 0)) else { return false }
        }
        return true
    }
}

/// `FastConv2D.runSums`: the conv's int32 sums, for the max pool after it to requantize.
final class ConvSums: IntegerLayer {
    let conv: FastConv2D

    init(_ conv: FastConv2D) { self.conv = conv }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        conv.runSums(inputs: inputs, output: output, batch: batch, threads: threads)
    }
}
