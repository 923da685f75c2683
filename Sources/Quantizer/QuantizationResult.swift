import QBin
import QCore

/// A clip range chosen for one tensor by other means than its statistics (data-free BatchNorm ranges).
public struct TensorRange: Sendable, Equatable {
    public var low: Float
    public var high: Float
    public var method: String
    public init(low: Float, high: Float, method: String) { self.low = low; self.high = high; self.method = method }
}

/// What the quantizer did to one node of the canonical graph (one entry per op it wrote).
public struct LayerQuantization: Sendable, Equatable {
    public var name: String
    /// The canonical graph node and the op kind it became.
    public var node: Int
    public var kind: QOpKind
    /// The op's output tensor in the model.
    public var tensor: Int
    public var weightBits: Int?
    public var activationBits: Int
    public var granularity: WeightGranularity?
    public var weightSQNR: Double?
    public var clipLow: Float
    public var clipHigh: Float
    public var clipMethod: String
    /// Largest possible |int32 accumulator| of a weighted op: `K * max|q_x - z_x| * max|q_w| + max|bias|`.
    public var accumulatorBound: Int64?
    /// Source layers merged into this op (folded BatchNorm, fused ReLU).
    public var fused: [String]
    /// The recipe rule that set this op's bits when they differ from `--weight-bits` / `--activation-bits`.
    public var bitsReason: String?
    /// `"gptq"` or `"nearest"` for a weighted op, nil otherwise.
    public var weightRounding: String?
}

/// The quantized model and how it maps to the float graph it came from.
public struct QuantizationResult: Sendable {
    public var model: QModel
    public var layers: [LayerQuantization]
    /// For each canonical node, the model tensor holding its value (nil: folded into another op's output,
    /// e.g. a final softmax applied at the edge).
    public var tensorForNode: [Int?]
    /// Set when the float graph ends in a softmax that the integer model leaves to the edge
    /// (metadata `output.activation = softmax`): the model's output is the logits.
    public var outputActivation: Activation?
    public var warnings: [String]
    /// Graph rewrites considered (canonicalization's measured folds, lowering's constant channels), applied or not.
    public var rewrites: [RewriteRecord] = []
}
