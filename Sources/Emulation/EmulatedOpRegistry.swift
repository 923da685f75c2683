import QBin
import QCore

/// The emulated twin of a registered op (docs/op-registry.md): the integer op with its fixed-point
/// approximations replaced by real arithmetic, rescale factors derived from the tensors' scales.
public protocol EmulatedOpDefinition: Sendable {
    var code: UInt16 { get }
    func makeEmulatedOp(_ context: EmulatedOpContext) throws(EmulationError) -> any EmulatedOp
}

/// The emulated twins installed by the op registry (`OpRegistry.install()` in the Ops module).
public enum EmulatedOpRegistry {
    private static let table = RegistryTable<UInt16, any EmulatedOpDefinition>()

    public static func register(_ definition: any EmulatedOpDefinition) { table.insert(definition, for: definition.code) }

    public static func definition(_ code: UInt16) -> (any EmulatedOpDefinition)? { table[code] }
}

/// What a registered op's twin builder may read, with the emulator's own helpers.
public struct EmulatedOpContext {
    let factory: OpFactory
    let at: OpSite

    public var op: QOp { at.op }
    public var model: QModel { factory.model }
    public func input(_ i: Int) -> QTensor { factory.model.tensors[op.inputs[i]] }
    public var output: QTensor { factory.model.tensors[op.outputs[0]] }

    /// The zero point of a per-tensor activation.
    public func zero(_ t: QTensor) throws(EmulationError) -> Int32 { try factory.zero(t, at) }
    /// An attribute holding exactly `count` values.
    public func values(_ key: String, _ count: Int) throws(EmulationError) -> [Int32] { try at.values(key, count) }
    /// The real rescale `q = clamp(zout + round(acc * factors[c]))` to the op's output, with its `clamp`
    /// attribute (and the model's double rounding where its profile has it).
    public func rescale(factors: [Double]) throws(EmulationError) -> RealRescale { try factory.rescale(op, factors: factors, at) }
    /// An error naming the op.
    public func invalid(_ reason: String) -> EmulationError { at.invalid(reason) }
}
