/// The graph-level part of an op defined in the op registry (`Sources/Ops`, docs/op-registry.md): its
/// parameters, shape rule and calibration behaviour. Every stage finds the rest of the op from the
/// same value: the float engine casts it to `FloatOp`, the quantizer to `QuantizedFormOp`; the `.qbin`
/// side (validation, simulator, emulation) finds it by its op kind code in the tables the registry
/// installs.
public protocol GraphOp: Sendable, CustomStringConvertible {
    /// The op's name in tables, JSON and error messages (also its Keras class name).
    var name: String { get }
    /// The per-sample output shape from the per-sample input shapes, or why they do not fit
    /// (a phrase completing "expected ...").
    func outputShape(_ inputShapes: [[Int]]) -> Result<[Int], ShapeRuleFailure>
    /// True when the output keeps its input's encoding (a value-preserving op whose output is never
    /// wider than its input, as max pooling): the quantizer's first/last-layer rule then looks
    /// through it, and its lowering emits it with `OpLowering.emitPassThrough`.
    var copiesInputEncoding: Bool { get }
    /// Value equality with another registered op (used by `Op`'s `Equatable`).
    func isEqual(to other: any GraphOp) -> Bool
}

/// Why a shape rule refused its inputs: what it expected.
public struct ShapeRuleFailure: Error, Sendable, Equatable {
    public let expected: String
    public init(expected: String) { self.expected = expected }
}

extension GraphOp where Self: Equatable {
    public func isEqual(to other: any GraphOp) -> Bool { (other as? Self) == self }
}

extension GraphOp {
    public var description: String { name }
}

/// A registered op as an `Op` payload, with value equality through `GraphOp.isEqual`.
public struct AnyGraphOp: Sendable, Equatable {
    public let op: any GraphOp
    public init(_ op: any GraphOp) { self.op = op }
    public static func == (a: AnyGraphOp, b: AnyGraphOp) -> Bool { a.op.isEqual(to: b.op) }
}
