import FixedPoint
import QBin

/// Max pools moved before the ops they commute with, on the unobserved path (observed runs keep the
/// separate ops, whose every output is seen).
///
/// - A conv2D whose output only a max pool reads stores its int32 sums (`ConvSums`), and the pool
///   requantizes each window's maximum with the conv's bias and requantization
///   (`FastPool2D(requantizing:)`): a 2x2 pool requantizes a quarter of the values.
/// - A channelAffine (table path) whose output only a max pool reads runs after the pool, on a quarter
///   of the values (`PoolBeforeAffine`, `AffineAfterPool`); a conv before it then stores its sums too.
///
/// Exact, not approximate: for any non-decreasing `q`, `max q(s_i) = q(max s_i)`. The requantization
/// `q(s) = clamp(zout + multiply(s + bias, m), lo, hi)` is non-decreasing in `s` when `m >= 0` and
/// nothing wraps: every channel's bound on `|s + bias|` (the sum of its weights' magnitudes times the
/// largest input magnitude, plus the bias), shifted left by the multiplier's left shift, stays below
/// 2^31. A channelAffine's table is checked entry by entry. Every window must hold an input pixel (an
/// empty window gives `zin`, not a mapped value).
enum ConvPoolFusion {
    /// `layers` with each fusable pair of `model` replaced, for passes nothing observes: first a
    /// channelAffine whose output only a max pool reads runs after the pool instead (`PoolBeforeAffine`,
    /// `AffineAfterPool`: exact when each channel's table is non-decreasing, as above), then each conv
    /// whose output only a max pool reads (directly, or through such a swap) stores its sums.
    static func unobservedLayers(_ layers: [any IntegerLayer], model: QModel) -> [any IntegerLayer] {
        var readers = [Int](repeating: 0, count: model.tensors.count)
        var reader = [Int](repeating: -1, count: model.tensors.count)
        for (index, op) in model.ops.enumerated() {
            for t in op.inputs { readers[t] += 1; reader[t] = index }
        }
        /// The max pool that alone reads tensor `t` (an op of `model`), if any.
        func onlyPool(reading t: Int) -> FastPool2D? {
            guard readers[t] == 1, !model.outputs.contains(t), model.ops[reader[t]].kind == .maxPool2D,
                  let pool = layers[reader[t]] as? FastPool2D, pool.isMax, pool.requantizer == nil,
                  everyWindowHoldsAPixel(pool.p) else { return nil }
            return pool
        }
        var result = layers
        // The swapped pools, by the index of the op whose place they take.
        var swapped: [Int: FastPool2D] = [:]
        for (index, op) in model.ops.enumerated() where op.kind == .channelAffine {
            guard let affine = layers[index] as? FastChannelAffine, affine.isNonDecreasing, op.outputs.count == 1,
                  let pool = onlyPool(reading: op.outputs[0]) else { continue }
            result[index] = PoolBeforeAffine(pool)
            result[reader[op.outputs[0]]] = AffineAfterPool(affine, pixels: pool.p.outH * pool.p.outW)
            swapped[index] = pool
        }
        for (index, op) in model.ops.enumerated() where op.kind == .conv2D {
            guard let conv = layers[index] as? FastConv2D, op.outputs.count == 1, !model.outputs.contains(op.outputs[0]),
                  readers[op.outputs[0]] == 1, nothingWraps(conv, inputType: model.tensors[op.inputs[0]].type) else { continue }
            let next = reader[op.outputs[0]]
            let requantizing = (conv.p.requant, bias: conv.adjustedBias)
            if let pool = swapped[next] {
                result[next] = PoolBeforeAffine(FastPool2D(pool.p, isMax: true, inputBits: 32, requantizing: requantizing))
            } else if let pool = onlyPool(reading: op.outputs[0]) {
                result[next] = FastPool2D(pool.p, isMax: true, inputBits: 32, requantizing: requantizing)
            } else {
                continue
            }
            result[index] = ConvSums(conv)
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

/// A max pool moved before the channelAffine whose output it reads: it pools the affine's input into
/// the first `batch x pooled` values of the affine's output buffer (nothing else reads that buffer).
final class PoolBeforeAffine: IntegerLayer {
    let pool: FastPool2D

    init(_ pool: FastPool2D) { self.pool = pool }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let count = batch * pool.p.outH * pool.p.outW * pool.p.channels
        pool.run(inputs: inputs, output: UnsafeMutableBufferPointer(rebasing: output[0..<count]), batch: batch, threads: threads)
    }
}

/// The channelAffine moved after the pool: it maps the pooled values (`pixels` per sample, at the start
/// of its input buffer) into the pool's output.
final class AffineAfterPool: IntegerLayer {
    let affine: FastChannelAffine
    let pixels: Int

    init(_ affine: FastChannelAffine, pixels: Int) { self.affine = affine; self.pixels = pixels }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int, threads: Int) {
        let count = batch * pixels * affine.reference.channels
        affine.run(inputs: [UnsafeBufferPointer(rebasing: inputs[0][0..<count])], output: output, batch: batch, threads: threads)
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
