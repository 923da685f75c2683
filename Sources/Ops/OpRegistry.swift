import Emulation
import FloatEngine
import KerasImport
import QBin
import QCore
import Quantizer
import Simulator

/// One row of the op registry: every part of one op, as ggml's type-traits table gives every part
/// of one type (docs/op-registry.md). The graph part (`GraphOp`: parameters, shape rule, calibration
/// behaviour) is a value of the op's own type, which also carries its float kernel (`FloatOp`) and
/// quantized form (`QuantizedFormOp`); the `.qbin` kind, integer kernels, emulated twin and Keras
/// importer are found by code or class name. A part left nil is a registration error that
/// `OpRegistryTests` reports.
public struct OpRegistration: Sendable {
    /// A value of the op and a per-sample input shape it accepts (used to check and exercise its parts).
    public let example: any GraphOp
    public let exampleInputShape: [Int]
    public let kind: (any QOpDefinition)?
    public let integer: (any IntegerOpDefinition)?
    public let emulated: (any EmulatedOpDefinition)?
    public let keras: (any KerasOpImporter)?

    public init(example: any GraphOp, exampleInputShape: [Int], kind: (any QOpDefinition)?, integer: (any IntegerOpDefinition)?,
                emulated: (any EmulatedOpDefinition)?, keras: (any KerasOpImporter)?) {
        self.example = example; self.exampleInputShape = exampleInputShape
        self.kind = kind; self.integer = integer; self.emulated = emulated; self.keras = keras
    }

    /// The parts this registration lacks (empty when complete), or whose codes disagree.
    public var missingParts: [String] {
        var missing: [String] = []
        if !(example is any FloatOp) { missing.append("float kernel (FloatOp)") }
        if !(example is any QuantizedFormOp) { missing.append("quantized form (QuantizedFormOp)") }
        if kind == nil { missing.append(".qbin kind (QOpDefinition)") }
        if integer == nil { missing.append("reference integer kernel (IntegerOpDefinition)") }
        if emulated == nil { missing.append("emulated twin (EmulatedOpDefinition)") }
        if keras == nil { missing.append("Keras importer (KerasOpImporter)") }
        if let code = kind?.code {
            if let c = integer?.code, c != code { missing.append("integer kernels under code \(c), the kind is \(code)") }
            if let c = emulated?.code, c != code { missing.append("emulated twin under code \(c), the kind is \(code)") }
        }
        return missing
    }
}

/// The ops defined outside the built-in switches: one folder each under `Sources/Ops`, one line here.
public enum OpRegistry {
    public static let all: [OpRegistration] = [
        TVSmoothing.registration,
    ]

    /// Installs every registered op's `.qbin` kind, integer kernels, emulated twin and Keras importer
    /// in their stages' tables. Idempotent; every entry point that reads models or `.qbin` files calls it.
    public static func install() { _ = installed }

    private static let installed: Void = {
        for r in all {
            if let kind = r.kind { QOpRegistry.register(kind) }
            if let integer = r.integer { IntegerOpRegistry.register(integer) }
            if let emulated = r.emulated { EmulatedOpRegistry.register(emulated) }
            if let keras = r.keras { KerasOpRegistry.register(keras) }
        }
    }()
}
