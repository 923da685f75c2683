import QCore

/// The float-engine part of a registered op (`GraphOp`): its float kernel. The engine casts a node's
/// `Op.registered` payload to this protocol; a registered op that is not a `FloatOp` is refused with
/// `GraphError.invalidGraph` when the executor is built.
public protocol FloatOp: GraphOp {
    /// The op's float kernel for these per-sample input and output shapes (already checked by the
    /// op's shape rule).
    func makeFloatLayer(inputShapes: [[Int]], outputShape: [Int]) -> any FloatLayer
}
