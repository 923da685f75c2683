import Foundation
import HDF5
import QCore

/// Which Keras wrote the file (decides conventions such as `hard_sigmoid`).
public enum KerasFormat: String, Sendable {
    case keras2, keras3
}

/// The kind of Keras file, decided by content: the zip signature makes a `.keras` archive,
/// an HDF5 file with `model_config` a legacy full model, one with `layers/` Keras 3 weights only.
public enum KerasContainer: String, Sendable {
    /// Legacy full-model HDF5 (`model.save('m.h5')`, Keras 2 and 3).
    case legacyH5
    /// Keras 3 zip archive (`model.save('m.keras')`).
    case kerasArchive
    /// Keras 3 weights (`model.save_weights('m.weights.h5')`) with the architecture from a JSON file.
    case weightsWithConfig
}

/// A Keras model turned into a graph, with where it came from.
public struct ImportedModel: Sendable {
    public var graph: Graph
    public var path: String
    /// Root attribute `keras_version` ("2.15.0", "3.4.1") or the archive's metadata, when the file has one.
    public var kerasVersion: String?
    /// Root attribute `backend` ("tensorflow", "jax"), when the file has one.
    public var backend: String?
    public var format: KerasFormat
    public var container: KerasContainer = .legacyH5
}

/// Reads Keras models: legacy full-model `.h5` files (Keras 2.0-2.15 / tf-keras, and Keras 3's
/// legacy h5), Keras 3 `.keras` archives, and Keras 3 `.weights.h5` files with a JSON architecture.
public enum KerasImporter {
    /// Keras layer classes the importer supports.
    public static var supportedLayerClasses: [String] { GraphBuilder.allSupportedClasses }

    /// Loads `path`, whatever its name: a zip is read as a `.keras` archive, an HDF5 file with a
    /// root `model_config` attribute as a legacy model, an HDF5 file with a `layers` group as Keras 3
    /// weights whose architecture is `configPath`, or else `<stem>.json` / `<stem>.config.json` /
    /// `config.json` beside it (`<stem>` is the name without `.weights.h5` / `.h5`).
    public static func load(path: String, configPath: String? = nil) throws(KerasImportError) -> ImportedModel {
        if KerasArchive.hasZipMagic(path: path) { return try loadArchive(path: path) }
        do {
            let file = try HDF5File.open(path)
            let root = file.root
            if !root.hasAttribute("model_config"), root.contains("layers") {
                return try loadWeightsFile(file, path: path, configPath: configPath)
            }
            guard root.hasAttribute("model_config") else { throw KerasImportError.missingModelConfig(path: path) }
            let json = try root.stringAttribute("model_config")
            let version = root.hasAttribute("keras_version") ? try root.stringAttribute("keras_version") : nil
            let backend = root.hasAttribute("backend") ? try root.stringAttribute("backend") : nil
            let weightsGroup = root.contains("model_weights") ? try root.group("model_weights") : nil
            let topology = try ModelTopology.parse(json: json, path: path)
            return try importModel(topology: topology, path: path, kerasVersion: version, backend: backend,
                                   weights: HDF5Weights(group: weightsGroup, path: path, owners: topology.nestedOwners))
        } catch let error as KerasImportError {
            throw error
        } catch let error as HDF5Error {
            throw .hdf5(error)
        } catch {
            throw .invalidConfig(path: path, detail: "\(error)")
        }
    }

    /// A `.keras` archive: `config.json` for the architecture, `model.weights.h5` opened in memory.
    static func loadArchive(path: String) throws(KerasImportError) -> ImportedModel {
        let archive = try KerasArchive.read(path: path)
        let weightsName = path + "!model.weights.h5"
        let file: HDF5File
        do {
            file = try HDF5File.open(image: archive.weights, name: weightsName)
        } catch {
            throw .archive(path: path, detail: "model.weights.h5 inside it cannot be opened (\(error.description))")
        }
        var model = try importKeras3(json: archive.config, path: path, kerasVersion: archive.kerasVersion, file: file,
                                     weightsPath: weightsName)
        model.container = .kerasArchive
        return model
    }

    /// A Keras 3 weights file with its architecture from a JSON file.
    static func loadWeightsFile(_ file: HDF5File, path: String, configPath: String?) throws(KerasImportError) -> ImportedModel {
        let candidates = configPath.map { [$0] } ?? configCandidates(for: path)
        guard let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) else {
            throw .weightsWithoutConfig(path: path, tried: candidates)
        }
        let json: String
        do {
            json = try String(contentsOfFile: found, encoding: .utf8)
        } catch {
            throw .invalidConfig(path: found, detail: "cannot read it as UTF-8 text (\(error.localizedDescription))")
        }
        var model = try importKeras3(json: json, path: path, kerasVersion: nil, file: file, weightsPath: path)
        model.container = .weightsWithConfig
        return model
    }

    /// Config files looked for beside a weights-only file.
    static func configCandidates(for path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        var stem = url.lastPathComponent
        for suffix in [".weights.h5", ".h5", ".hdf5"] where stem.lowercased().hasSuffix(suffix) {
            stem = String(stem.dropLast(suffix.count))
            break
        }
        return ["\(stem).json", "\(stem).config.json", "config.json"].map { folder.appendingPathComponent($0).path }
    }

    static func importKeras3(json: String, path: String, kerasVersion: String?, file: HDF5File,
                             weightsPath: String) throws(KerasImportError) -> ImportedModel {
        let topology = try ModelTopology.parse(json: json, path: path)
        let weights = try Keras3Weights(file: file, path: weightsPath, layers: topology.keras3Entries)
        // The Keras 3 layout exists only in Keras 3, whatever the config looks like.
        return try importModel(topology: topology, path: path, kerasVersion: kerasVersion, backend: nil, weights: weights, format: .keras3)
    }

    /// The JSON-to-graph half of `load`, also used by tests with in-memory weights.
    static func importModel(json: String, path: String, kerasVersion: String?, backend: String?,
                            weights: any WeightSource) throws(KerasImportError) -> ImportedModel {
        let topology = try ModelTopology.parse(json: json, path: path)
        return try importModel(topology: topology, path: path, kerasVersion: kerasVersion, backend: backend, weights: weights)
    }

    static func importModel(topology: ModelTopology, path: String, kerasVersion: String?, backend: String?,
                            weights: any WeightSource, format: KerasFormat? = nil) throws(KerasImportError) -> ImportedModel {
        let format = format ?? detectFormat(version: kerasVersion, topology: topology)
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
