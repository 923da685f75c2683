import HDF5
import QCore

/// Which Keras wrote the file (decides conventions such as `hard_sigmoid`).
public enum KerasFormat: String, Sendable {
    case keras2, keras3
}

/// A Keras model turned into a graph, with where it came from.
public struct ImportedModel: Sendable {
    public var graph: Graph
    public var path: String
    /// Root attribute `keras_version` ("2.15.0", "3.4.1"), when the file has one.
    public var kerasVersion: String?
    /// Root attribute `backend` ("tensorflow", "jax"), when the file has one.
    public var backend: String?
    public var format: KerasFormat
}

/// Reads legacy full-model Keras `.h5` files (Keras 2.0-2.15 / tf-keras, and Keras 3's legacy h5).
public enum KerasImporter {
    /// Keras layer classes the importer supports.
    public static var supportedLayerClasses: [String] { GraphBuilder.supportedClasses }

    /// Loads `path`: the architecture from the root `model_config` attribute, the weights from
    /// `model_weights/<layer>` in `weight_names` order. Optimizer state and training config are ignored.
    public static func load(path: String) throws(KerasImportError) -> ImportedModel {
        do {
            let file = try HDF5File.open(path)
            let root = file.root
            guard root.hasAttribute("model_config") else { throw KerasImportError.missingModelConfig(path: path) }
            let json = try root.stringAttribute("model_config")
            let version = root.hasAttribute("keras_version") ? try root.stringAttribute("keras_version") : nil
            let backend = root.hasAttribute("backend") ? try root.stringAttribute("backend") : nil
            let weightsGroup = root.contains("model_weights") ? try root.group("model_weights") : nil
            return try importModel(json: json, path: path, kerasVersion: version, backend: backend,
                                   weights: HDF5Weights(group: weightsGroup, path: path))
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error {
            throw .hdf5(error)
        } catch {
            throw .invalidConfig(path: path, detail: "\(error)")
        }
    }

    /// The JSON-to-graph half of `load`, also used by tests with in-memory weights.
    static func importModel(json: String, path: String, kerasVersion: String?, backend: String?,
                            weights: any WeightSource) throws(KerasImportError) -> ImportedModel {
        let topology = try ModelTopology.parse(json: json, path: path)
        let format = detectFormat(version: kerasVersion, topology: topology)
        let context = ImportContext(path: path, format: format)
        let graph = try topology.buildGraph(context: context, weights: weights)
        return ImportedModel(graph: graph, path: path, kerasVersion: kerasVersion, backend: backend, format: format)
    }

    /// Keras 3 when `keras_version` has major version 3 or more; without a version, from the config's dialect.
    static func detectFormat(version: String?, topology: ModelTopology) -> KerasFormat {
        if let version, let major = Int(version.prefix { $0.isNumber }) {
            return major >= 3 ? .keras3 : .keras2
        }
        return topology.looksLikeKeras3 ? .keras3 : .keras2
    }
}
