import FixedPoint
import QBin
import QCore

/// The quantizer part of a registered op (docs/op-registry.md): how its node becomes `.qbin` ops.
public protocol QuantizedFormOp: GraphOp {
    /// The width every activation this op reads is kept at, at least (nil: the recipe's width).
    var minimumInputBits: Int? { get }
    /// Appends the node's tensors and ops through `lowering`.
    func lower(_ lowering: inout OpLowering) throws(QuantizerError)
}

extension QuantizedFormOp {
    public var minimumInputBits: Int? { nil }
}

/// What a registered op's lowering may do: read its input encodings, choose its output encoding
/// from the calibration statistics, derive fixed-point multipliers, and emit one op.
public struct OpLowering {
    var builder: ModelBuilder
    /// The node being lowered.
    public let node: Int
    /// The node's activation width.
    public let bits: Int

    public var graph: Graph { builder.graph }
    public var name: String { builder.graph.nodes[node].name }

    /// Model tensor and encoding of input `k`.
    public func input(_ k: Int = 0) -> (tensor: Int, params: ActivationParameters) { builder.input(node, k) }

    /// The output's encoding from its calibrated range at `bits`.
    public mutating func outputParams() throws(QuantizerError) -> ActivationParameters {
        try builder.outputParams(node, bits: bits)
    }

    /// The fixed-point form of a real rescale factor.
    public func multiplier(_ real: Double) throws(QuantizerError) -> QuantizedMultiplier {
        try builder.quantizer.multiplier(real, layer: name)
    }

    /// The output's clamp (its fused ReLU's, or the full range of `p`).
    public func clamp(_ p: ActivationParameters) -> [Int32] { builder.clamp(node, p) }

    /// Adds the output tensor with encoding `p` and one op of `kind` reading `inputs`; returns the tensor.
    @discardableResult
    public mutating func emit(kind: QOpKind, inputs: [Int], output p: ActivationParameters, attributes: [QAttribute]) -> Int {
        let t = builder.addOutput(node, p)
        builder.model.ops.append(QOp(kind: kind, name: name, inputs: inputs, outputs: [t], attributes: attributes))
        builder.record(node, kind: kind, tensor: t, p: p)
        return t
    }

    /// Adds the output tensor in input 0's encoding and one op of `kind` reading it (an op whose
    /// `copiesInputEncoding` is true: no rescale in integer arithmetic); returns the tensor.
    @discardableResult
    public mutating func emitPassThrough(kind: QOpKind, attributes: [QAttribute]) -> Int {
        builder.passThrough(node, kind: kind, attributes: attributes)
        return builder.tensorOf[node]!
    }

    /// A refusal naming the node.
    public func refuse(_ reason: String) -> QuantizerError {
        .unsupportedLayer(name: name, op: builder.graph.nodes[node].op.name, reason: reason)
    }
}
