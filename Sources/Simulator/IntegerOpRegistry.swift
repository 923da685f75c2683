import FixedPoint
import QBin
import QCore

/// The integer part of a registered op (docs/op-registry.md): its scalar reference kernel and,
/// where it has one, a fast kernel tested bit-exactly against it. The `.qbin` checks already ran in
/// the reader (`QOpDefinition.check`); these only build.
public protocol IntegerOpDefinition: Sendable {
    var code: UInt16 { get }
    func makeReferenceLayer(_ context: IntegerOpContext) throws(SimulatorError) -> any IntegerLayer
    /// The fast kernel, or nil where the reference serves both simulators.
    func makeFastLayer(_ context: IntegerOpContext) throws(SimulatorError) -> (any IntegerLayer)?
}

extension IntegerOpDefinition {
    public func makeFastLayer(_ context: IntegerOpContext) throws(SimulatorError) -> (any IntegerLayer)? { nil }
}

/// The integer kernels installed by the op registry (`OpRegistry.install()` in the Ops module).
public enum IntegerOpRegistry {
    private static let table = RegistryTable<UInt16, any IntegerOpDefinition>()

    public static func register(_ definition: any IntegerOpDefinition) { table.insert(definition, for: definition.code) }

    public static func definition(_ code: UInt16) -> (any IntegerOpDefinition)? { table[code] }
}

/// What a registered op's kernel builder may read: its op, tensors and the model's rounding, with the
/// simulator's own helpers for zero points, attributes and requantizers.
public struct IntegerOpContext {
    let builder: LayerBuilder
    let at: OpContext

    public var op: QOp { at.op }
    public var model: QModel { builder.model }
    public var profile: RoundingProfile { builder.profile }
    public func input(_ i: Int) -> QTensor { builder.model.tensors[op.inputs[i]] }
    public var output: QTensor { builder.model.tensors[op.outputs[0]] }

    /// The zero point of a per-tensor activation.
    public func zero(_ t: QTensor) throws(SimulatorError) -> Int32 { try builder.zero(t, at) }
    /// An attribute holding exactly `count` values.
    public func values(_ key: String, _ count: Int) throws(SimulatorError) -> [Int32] { try at.values(key, count) }
    /// The requantizer of the op's `multiplier`, `shift` and `clamp` attributes to its output's zero point.
    public func requantizer(channels: Int) throws(SimulatorError) -> ChannelRequantizer {
        try builder.requantizer(op, channels: channels, at)
    }
    /// An error naming the op.
    public func invalid(_ reason: String) -> SimulatorError { at.invalid(reason) }
}
