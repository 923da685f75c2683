import Foundation
import QCore

/// Applies an activation in place over a flat NHWC buffer.
///
/// The ReLU family are plain clamps the compiler vectorises; sigmoid, tanh, swish and softmax call
/// libm's `expf`/`tanhf` per element (within an ulp or two), because the float engine is the
/// accuracy reference for quantization and speed matters less than that here.
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

    private static func elementwise(_ activation: Activation, _ x: UnsafeMutablePointer<Float>, count: Int) {
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
            for i in 0..<count { x[i] = sigmoid(x[i]) }
        case .tanh:
            for i in 0..<count { x[i] = Foundation.tanh(x[i]) }
        case .hardSigmoid(let slope, let offset):
            for i in 0..<count { x[i] = min(max(slope * x[i] + offset, 0), 1) }
        case .swish:
            for i in 0..<count { let v = x[i]; x[i] = v * sigmoid(v) }
        }
    }

    /// `1 / (1 + e^-x)`; for large negative x, `e^-x` overflows to +inf and the result is 0 as it should be.
    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        1 / (1 + Foundation.exp(-x))
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
