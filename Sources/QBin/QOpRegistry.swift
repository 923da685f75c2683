import QCore

/// The `.qbin` part of a registered op (docs/op-registry.md): its on-disk code, inputs, required
/// attributes and every semantic check of section 7 (shapes, attribute ranges). The reader's
/// validation runs `check`, so the simulator and the emulation only build what it accepted.
public protocol QOpDefinition: Sendable {
    /// On-disk kind code (docs/qbin-format.md 5.1); never reused for another op.
    var code: UInt16 { get }
    /// The kind's name in tables and errors (lower camel case, as the built-in kinds).
    var name: String { get }
    var inputCount: ClosedRange<Int> { get }
    /// True when inputs 1 and up must be constants.
    var hasConstantInputs: Bool { get }
    var requiredAttributes: [(key: String, count: QOpKind.Count)] { get }
    /// Why `op` (its attributes already present with the required counts) cannot run in `model`, or nil.
    func check(_ op: QOp, in model: QModel) -> String?
}

/// The `.qbin` op kinds installed by the op registry (`OpRegistry.install()` in the Ops module).
/// Reading a file with a registered kind needs the registry installed; an unknown code is an
/// `unknownOp` error.
public enum QOpRegistry {
    private static let table = RegistryTable<UInt16, any QOpDefinition>()

    /// Installs a definition; a second definition with the same code replaces nothing and is refused.
    public static func register(_ definition: any QOpDefinition) {
        precondition(!QOpKind.builtIn.contains { $0.code == definition.code }, "op code \(definition.code) is a built-in kind")
        table.insert(definition, for: definition.code) { existing in
            precondition(existing.name == definition.name, "op code \(definition.code) registered twice (\(existing.name), \(definition.name))")
            return true
        }
    }

    public static func definition(_ code: UInt16) -> (any QOpDefinition)? { table[code] }

    /// Installed codes, ascending.
    public static var codes: [UInt16] { table.keys }
}
