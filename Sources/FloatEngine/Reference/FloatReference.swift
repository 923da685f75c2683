import Foundation
import QCore

/// Plain scalar loops that define what every fast float kernel must compute.
///
/// Sums are accumulated in `Double` and activations evaluated in `Double`, so the reference is at
/// least as accurate as any float32 kernel and a test's tolerance only has to cover the fast
/// kernel's own rounding. Inputs and outputs are NHWC, batch first, row-major.
public enum FloatReference {
    /// `C[m x n] = A[m x k] * B[k x n]`, all row-major.
    public static func gemm(a: [Float], b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(a.count == m * k && b.count == k * n, "FloatReference.gemm: sizes do not match \(m)x\(k)x\(n)")
        var c = [Float](repeating: 0, count: m * n)
        for row in 0..<m {
            for column in 0..<n {
                var sum = 0.0
                for inner in 0..<k { sum += Double(a[row * k + inner]) * Double(b[inner * n + column]) }
                c[row * n + column] = Float(sum)
            }
        }
        return c
    }

    /// Dense over `rows` input vectors (every sample's rows together): `act(bias + x * W)`.
    public static func dense(_ dense: Dense, input: [Float], rows: Int) -> [Float] {
        let inFeatures = dense.inFeatures, outFeatures = dense.outFeatures
        precondition(input.count == rows * inFeatures, "FloatReference.dense: \(input.count) inputs for \(rows) rows of \(inFeatures)")
        var output = [Float](repeating: 0, count: rows * outFeatures)
        for row in 0..<rows {
            for o in 0..<outFeatures {
                var sum = Double(dense.bias[o])
                for i in 0..<inFeatures {
                    sum += Double(input[row * inFeatures + i]) * Double(dense.weights.data[i * outFeatures + o])
                }
                output[row * outFeatures + o] = Float(sum)
            }
        }
        return activation(dense.activation, output, channels: outFeatures)
    }

    /// The activation applied elementwise (softmax over each run of `channels` values).
    public static func activation(_ activation: Activation, _ x: [Float], channels: Int) -> [Float] {
        if case .softmax = activation {
            var y = x
            for start in stride(from: 0, to: x.count, by: channels) {
                let row = x[start..<(start + channels)].map(Double.init)
                let largest = row.max() ?? 0
                let exps = row.map { Foundation.exp($0 - largest) }
                let sum = exps.reduce(0, +)
                for (i, e) in exps.enumerated() { y[start + i] = Float(e / sum) }
            }
            return y
        }
        return x.map { activate(activation, $0) }
    }

    /// One value through an elementwise activation, in `Double`.
    public static func activate(_ activation: Activation, _ value: Float) -> Float {
        let x = Double(value)
        switch activation {
        case .linear, .softmax: return value
        case .relu: return value > 0 ? value : 0
        case .relu6: return min(max(value, 0), 6)
        case .leakyRelu(let alpha): return value >= 0 ? value : Float(Double(alpha) * x)
        case .generalRelu(let maxValue, let slope, let threshold):
            if let maxValue, value >= maxValue { return maxValue }
            if value >= threshold { return value }
            return Float(Double(slope) * (x - Double(threshold)))
        case .sigmoid: return Float(1 / (1 + Foundation.exp(-x)))
        case .tanh: return Float(Foundation.tanh(x))
        case .hardSigmoid(let slope, let offset): return Float(min(max(Double(slope) * x + Double(offset), 0), 1))
        case .swish: return Float(x / (1 + Foundation.exp(-x)))
        case .hardSwish: return Float(x * Swift.min(Swift.max(x + 3, 0), 6) / 6)
        case .gelu: return Float(0.5 * x * Foundation.erfc(-x / 2.0.squareRoot()))
        }
    }
}
