import QCore

/// The Keras part of a registered op (docs/op-registry.md): the layer classes it imports and how a
/// layer's config becomes the op.
public protocol KerasOpImporter: Sendable {
    /// Class names as Keras writes them (a custom layer registered under a package also appears as
    /// "package>Name" in a legacy `.h5`).
    var kerasClassNames: [String] { get }
    /// The op of one layer with one input (already resolved); its shape rule checks that input.
    func makeOp(_ layer: KerasLayerReader) throws(KerasImportError) -> any GraphOp
}

/// The Keras importers installed by the op registry (`OpRegistry.install()` in the Ops module).
public enum KerasOpRegistry {
    private static let table = RegistryTable<String, any KerasOpImporter>()

    public static func register(_ importer: any KerasOpImporter) {
        for name in importer.kerasClassNames { table.insert(importer, for: name) }
    }

    static func importer(_ className: String) -> (any KerasOpImporter)? { table[className] }

    /// Installed class names, sorted.
    static var classNames: [String] { table.keys }
}

/// Read access to one Keras layer's config, with the importer's typed errors (they name the file
/// and the layer).
public struct KerasLayerReader {
    let config: LayerConfig

    public var name: String { config.name }
    public func int(_ key: String, default fallback: Int? = nil) throws(KerasImportError) -> Int {
        try config.int(key, default: fallback)
    }
    public func double(_ key: String, default fallback: Double? = nil) throws(KerasImportError) -> Double {
        try config.double(key, default: fallback)
    }
    public func optionalDouble(_ key: String) throws(KerasImportError) -> Double? { try config.optionalDouble(key) }
    /// Refuses `data_format: channels_first`.
    public func requireChannelsLast() throws(KerasImportError) { try config.requireChannelsLast() }
    /// An error naming the file, the layer and `detail`.
    public func invalid(_ detail: String) -> KerasImportError { config.invalid(detail) }
}
