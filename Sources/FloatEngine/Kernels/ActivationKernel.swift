import CKernels
import Foundation
import QCore

/// Applies an activation in place over a flat NHWC buffer.
///
/// The ReLU family are plain clamps the compiler vectorises; sigmoid, tanh and swish are the per-level
/// C kernel `qc_activation_f32`, `VectorMath`'s polynomials at the level's width (16 lanes at avx512;
/// the Swift `SIMD8` form ran at SSE2 width, 20 % of ops_zoo) with the same roundings, so the same
/// floats as `VectorMath` (within a few ulps of the exact values: the float engine is the accuracy
/// reference for quantization, so they are held to 1e-6 relative against Double in the tests);
/// softmax calls libm's `expf` per element. Each value's result depends on nothing else, so it does
/// not depend on where the chunks (thread count) split the buffer.
public enum ActivationKernel {
    /// `channels` is the length of the last axis (softmax normalises over it; others ignore it).
    public static func apply(_ activation: Activation, to buffer: UnsafeMutablePointer<Float>, count: Int, channels: Int) {
        if case .linear = activation { return }
        if case .softmax = activation {
            let rows = count / max(channels, 1)
            let chunks = Parallel.chunkCount(count)
            Parallel.forEach(chunks) { chunk in
                let range = Parallel.alignedRange(chunk, chunks: chunks, count: rows, alignment: 1)
                for row in range { softmax(buffer + row &* channels, count: channels) }
            }
            return
        }
        let chunks = Parallel.chunkCount(count)
        Parallel.forEach(chunks) { chunk in
            let range = Parallel.chunkRange(chunk, of: count)
            elementwise(activation, buffer + range.lowerBound, count: range.count)
        }
    }

    /// An activation other than softmax over `count` values in place; the result of each value
    /// depends on nothing else (see the type's comment), so any split of a buffer gives the same floats.
    static func elementwise(_ activation: Activation, _ x: UnsafeMutablePointer<Float>, count: Int) {
        switch activation {
        case .linear, .softmax:
            return
        case .relu:
            for i in 0..<count { x[i] = max(x[i], 0) }
        case .relu6:
            for i in 0..<count { x[i] = min(max(x[i], 0), 6) }
        case .leakyRelu(let alpha):
            for i in 0..<count { let v = x[i]; x[i] = v >= 0 ? v : alpha * v }
        case .generalRelu(let maxValue, let slope, let threshold):
            let top = maxValue ?? .infinity
            for i in 0..<count {
                let v = x[i]
                x[i] = v >= top ? top : (v >= threshold ? v : slope * (v - threshold))
            }
        case .sigmoid:
            qc_activation_f32(0, x, count)
        case .tanh:
            qc_activation_f32(1, x, count)
        case .hardSigmoid(let slope, let offset):
            for i in 0..<count { x[i] = min(max(slope * x[i] + offset, 0), 1) }
        case .swish:
            qc_activation_f32(2, x, count)
        case .hardSwish:
            // TensorFlow's order: relu6(x + 3) / 6, then times x.
            for i in 0..<count { let v = x[i]; x[i] = v * (min(max(v + 3, 0), 6) / 6) }
        case .gelu:
            // TensorFlow's exact form, 0.5 x erfc(-x / sqrt(2)): no cancellation in 1 + erf for x << 0.
            for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * Foundation.erfc(-v * Float(0.5).squareRoot()) }
        }
    }

    /// `e^(x - max) / sum`, with the max subtracted so no exponent overflows.
    private static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int) {
        guard count > 0 else { return }
        var largest = x[0]
        for i in 1..<max(count, 1) where x[i] > largest { largest = x[i] }
        var sum: Float = 0
        for i in 0..<count {
            let e = Foundation.exp(x[i] - largest)
            x[i] = e
            sum += e
        }
        let inverse = 1 / sum
        for i in 0..<count { x[i] *= inverse }
    }
}
