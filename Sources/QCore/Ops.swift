/// Explicit zero padding of the spatial axes, in pixels. TensorFlow's `same` padding with stride > 1
/// pads more at the bottom/right; importers resolve it into these four numbers.
public struct Padding2D: Sendable, Equatable, Hashable {
    public var top: Int, bottom: Int, left: Int, right: Int
    public init(top: Int, bottom: Int, left: Int, right: Int) {
        self.top = top; self.bottom = bottom; self.left = left; self.right = right
    }
    public static let zero = Padding2D(top: 0, bottom: 0, left: 0, right: 0)

    /// TensorFlow's `same` padding for one axis: output `ceil(in / stride)`, total padding split with
    /// the extra pixel after (bottom/right).
    public static func same(input: Int, kernel: Int, stride: Int, dilation: Int) -> (before: Int, after: Int) {
        let effective = (kernel - 1) * dilation + 1
        let output = (input + stride - 1) / stride
        let total = max((output - 1) * stride + effective - input, 0)
        return (total / 2, total - total / 2)
    }
}

/// Geometry shared by the convolution-like ops.
public struct ConvGeometry: Sendable, Equatable {
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var dilationH: Int, dilationW: Int
    public var padding: Padding2D

    public init(kernelH: Int, kernelW: Int, strideH: Int = 1, strideW: Int = 1,
                dilationH: Int = 1, dilationW: Int = 1, padding: Padding2D = .zero) {
        self.kernelH = kernelH; self.kernelW = kernelW
        self.strideH = strideH; self.strideW = strideW
        self.dilationH = dilationH; self.dilationW = dilationW
        self.padding = padding
    }

    /// Output size of a (dilated, strided, padded) window sweep over `inH x inW`.
    public func outputSize(inH: Int, inW: Int) -> (h: Int, w: Int) {
        let effH = (kernelH - 1) * dilationH + 1, effW = (kernelW - 1) * dilationW + 1
        let h = (inH + padding.top + padding.bottom - effH) / strideH + 1
        let w = (inW + padding.left + padding.right - effW) / strideW + 1
        return (h, w)
    }
}

/// `out[n,y,x,o] = act(bias[o] + sum_{ky,kx,i} in[n, y*s+ky*d-pt, x*s+kx*d-pl, g*cinG+i] * w[ky,kx,i,o])`
/// where `g = o / (outChannels / groups)`. Weights `[kernelH, kernelW, inChannels / groups, outChannels]`.
public struct Conv2D: Sendable, Equatable {
    public var geometry: ConvGeometry
    public var groups: Int
    public var weights: Tensor
    /// Zeros when the source layer has no bias (`hasBias == false`), so kernels need no special case.
    public var bias: [Float]
    /// Whether the source layer stores a bias (parameter counts follow the source).
    public var hasBias: Bool
    public var activation: Activation

    public init(geometry: ConvGeometry, groups: Int = 1, weights: Tensor, bias: [Float]?, activation: Activation = .linear) {
        self.geometry = geometry
        self.groups = groups
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: weights.shape[3])
        self.hasBias = bias != nil
        self.activation = activation
    }
    public var inChannels: Int { weights.shape[2] * groups }
    public var outChannels: Int { weights.shape[3] }
}

/// Depthwise convolution: output channel `c * multiplier + m` reads input channel `c` only.
/// Weights `[kernelH, kernelW, inChannels, multiplier]` (Keras' layout).
public struct DepthwiseConv2D: Sendable, Equatable {
    public var geometry: ConvGeometry
    public var weights: Tensor
    /// Zeros when the source layer has no bias (`hasBias == false`), so kernels need no special case.
    public var bias: [Float]
    /// Whether the source layer stores a bias (parameter counts follow the source).
    public var hasBias: Bool
    public var activation: Activation

    public init(geometry: ConvGeometry, weights: Tensor, bias: [Float]?, activation: Activation = .linear) {
        self.geometry = geometry
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: weights.shape[2] * weights.shape[3])
        self.hasBias = bias != nil
        self.activation = activation
    }
    public var inChannels: Int { weights.shape[2] }
    public var multiplier: Int { weights.shape[3] }
    public var outChannels: Int { inChannels * multiplier }
}

/// Transposed convolution (the adjoint of `Conv2D` with the same geometry), Keras weights
/// `[kernelH, kernelW, outChannels, inChannels]`. The output size is fixed at import
/// (`outputH x outputW`); `geometry.padding` is the padding of the forward conv it transposes.
public struct Conv2DTranspose: Sendable, Equatable {
    public var geometry: ConvGeometry
    public var outputH: Int, outputW: Int
    public var weights: Tensor
    /// Zeros when the source layer has no bias (`hasBias == false`), so kernels need no special case.
    public var bias: [Float]
    /// Whether the source layer stores a bias (parameter counts follow the source).
    public var hasBias: Bool
    public var activation: Activation

    public init(geometry: ConvGeometry, outputH: Int, outputW: Int, weights: Tensor, bias: [Float]?,
                activation: Activation = .linear) {
        self.geometry = geometry
        self.outputH = outputH; self.outputW = outputW
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: weights.shape[2])
        self.hasBias = bias != nil
        self.activation = activation
    }
    public var inChannels: Int { weights.shape[3] }
    public var outChannels: Int { weights.shape[2] }
}

/// `out[n, o] = act(bias[o] + sum_i in[n, i] * w[i, o])` over the last axis; weights `[in, out]`.
public struct Dense: Sendable, Equatable {
    public var weights: Tensor
    /// Zeros when the source layer has no bias (`hasBias == false`), so kernels need no special case.
    public var bias: [Float]
    /// Whether the source layer stores a bias (parameter counts follow the source).
    public var hasBias: Bool
    public var activation: Activation

    public init(weights: Tensor, bias: [Float]?, activation: Activation = .linear) {
        self.weights = weights
        self.bias = bias ?? [Float](repeating: 0, count: weights.shape[1])
        self.hasBias = bias != nil
        self.activation = activation
    }
    public var inFeatures: Int { weights.shape[0] }
    public var outFeatures: Int { weights.shape[1] }
}

/// Inference batch normalization over the last axis: `y = gamma * (x - mean) / sqrt(variance + epsilon) + beta`.
public struct BatchNorm: Sendable, Equatable {
    public var gamma: [Float], beta: [Float], mean: [Float], variance: [Float]
    public var epsilon: Float

    public init(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float) {
        self.gamma = gamma; self.beta = beta; self.mean = mean; self.variance = variance; self.epsilon = epsilon
    }
    public var channels: Int { gamma.count }

    /// The per-channel affine form `y = scale * x + shift`, computed in double as Keras does in float.
    public var scaleAndShift: (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            let s = Double(gamma[c]) / (Double(variance[c]) + Double(epsilon)).squareRoot()
            scale[c] = Float(s)
            shift[c] = Float(Double(beta[c]) - Double(mean[c]) * s)
        }
        return (scale, shift)
    }
}

/// Max or average pooling window. Average pooling divides by the number of window pixels inside
/// the input (padding excluded), as TensorFlow does.
public struct Pool2D: Sendable, Equatable {
    public var geometry: ConvGeometry
    public init(geometry: ConvGeometry) { self.geometry = geometry }
}

/// One operation of the graph. Shapes are per sample, NHWC without the batch axis.
public enum Op: Sendable, Equatable {
    case input
    case conv2D(Conv2D)
    case depthwiseConv2D(DepthwiseConv2D)
    case conv2DTranspose(Conv2DTranspose)
    case dense(Dense)
    case batchNorm(BatchNorm)
    /// Layer normalization over the last axis (`LayerNorm`).
    case layerNorm(LayerNorm)
    case activation(Activation)
    case maxPool2D(Pool2D)
    case averagePool2D(Pool2D)
    case globalAveragePool2D
    case globalMaxPool2D
    case add
    case subtract
    case multiply
    /// Concatenation along `axis` of the per-sample shape (already normalised to be non-negative).
    case concatenate(axis: Int)
    case flatten
    case reshape([Int])
    /// Zero padding of the spatial axes; negative values crop (Keras Cropping2D).
    case zeroPadding2D(Padding2D)
    /// `y = x * scale[c] + offset[c]`, scale and offset broadcast over the last axis (length 1 or C).
    case rescaling(scale: [Float], offset: [Float])
    /// Inference-time no-op (Dropout, SpatialDropout, GaussianNoise, ...).
    case identity
    /// An op defined in the op registry (`Sources/Ops`, docs/op-registry.md), e.g. TV smoothing.
    case registered(AnyGraphOp)

    /// Short op name used in tables, JSON and error messages.
    public var name: String {
        switch self {
        case .input: return "Input"
        case .conv2D(let c): return c.groups == 1 ? "Conv2D" : "GroupConv2D"
        case .depthwiseConv2D: return "DepthwiseConv2D"
        case .conv2DTranspose: return "Conv2DTranspose"
        case .dense: return "Dense"
        case .batchNorm: return "BatchNorm"
        case .layerNorm: return "LayerNorm"
        case .activation(let a): return "Activation(\(a.name))"
        case .maxPool2D: return "MaxPool2D"
        case .averagePool2D: return "AveragePool2D"
        case .globalAveragePool2D: return "GlobalAveragePool2D"
        case .globalMaxPool2D: return "GlobalMaxPool2D"
        case .add: return "Add"
        case .subtract: return "Subtract"
        case .multiply: return "Multiply"
        case .concatenate: return "Concatenate"
        case .flatten: return "Flatten"
        case .reshape: return "Reshape"
        case .zeroPadding2D: return "ZeroPadding2D"
        case .rescaling: return "Rescaling"
        case .identity: return "Identity"
        case .registered(let r): return r.op.name
        }
    }
}

extension Op {
    /// The registered op of this node, or nil for a built-in op.
    public var registered: (any GraphOp)? {
        if case .registered(let r) = self { return r.op }
        return nil
    }

    /// A registered op as a graph op.
    public static func registered(_ op: any GraphOp) -> Op { .registered(AnyGraphOp(op)) }
}
