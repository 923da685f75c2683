/// An elementwise activation, as a standalone op or fused into a conv/dense op.
public enum Activation: Sendable, Equatable, Hashable {
    case linear
    case relu
    /// `min(max(x, 0), 6)`.
    case relu6
    /// `x >= 0 ? x : alpha * x`.
    case leakyRelu(alpha: Float)
    /// Keras' general `ReLU` layer: `x >= maxValue ? maxValue : x >= threshold ? x : negativeSlope * (x - threshold)`.
    case generalRelu(maxValue: Float?, negativeSlope: Float, threshold: Float)
    case sigmoid
    case tanh
    /// Keras 2 and 3 `hard_sigmoid` differ; `slope`/`offset` pin the one the file was written with:
    /// `clamp(slope * x + offset, 0, 1)` (Keras 2: 0.2, 0.5; Keras 3: 1/6, 0.5).
    case hardSigmoid(slope: Float, offset: Float)
    /// `x * sigmoid(x)`.
    case swish
    /// Keras 3 `hard_silu` / `hard_swish`: `x * relu6(x + 3) / 6` (MobileNetV3).
    case hardSwish
    /// Keras `gelu` (exact form, `approximate=False`): `0.5 x (1 + erf(x / sqrt(2)))`, computed as
    /// TensorFlow does, `0.5 x erfc(-x / sqrt(2))`.
    case gelu
    /// Softmax over the last axis.
    case softmax

    /// True when the function maps negative inputs to non-negative outputs only (ReLU family).
    public var isNonNegative: Bool {
        switch self {
        case .relu, .relu6, .sigmoid, .softmax, .hardSigmoid: return true
        case .generalRelu(_, let slope, let threshold): return slope == 0 && threshold >= 0
        default: return false
        }
    }

    /// A short name for tables and reports.
    public var name: String {
        switch self {
        case .linear: return "linear"
        case .relu: return "relu"
        case .relu6: return "relu6"
        case .leakyRelu(let a): return "leaky_relu(\(a))"
        case .generalRelu(let m, let s, let t):
            return "relu(max=\(m.map { "\($0)" } ?? "none"), slope=\(s), threshold=\(t))"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .hardSigmoid: return "hard_sigmoid"
        case .swish: return "swish"
        case .hardSwish: return "hard_swish"
        case .gelu: return "gelu"
        case .softmax: return "softmax"
        }
    }
}
