import Foundation
import HDF5
import KerasImport
import Ops
import QCore

/// A float model ready to run, whatever file it came from.
public struct LoadedModel: Sendable {
    public var graph: Graph
    public var path: String
    /// Where it came from, for tables and reports ("Keras 3.15.1 (legacy .h5)").
    public var origin: String
}

public enum ModelLoader {
    /// Runs before a model file is read in this process: the CLI sets it to `IsolatedRead.check`, which
    /// reads the file first in a child process with a time limit (a crafted HDF5 file can hang or
    /// corrupt memory inside libhdf5 1.10 before any check of ours sees the data; docs/robustness.md).
    /// Library users get the plain in-process read.
    /// Its arguments are the model path and the `--config` path (nil: none given).
    nonisolated(unsafe) public static var isolatedReadCheck: ((String, String?) throws(QConvertError) -> Void)?

    /// Loads a float model from a Keras file: a legacy `.h5`, a `.keras` archive, or a Keras 3
    /// `.weights.h5` with its JSON architecture from `configPath`, else found beside it (see `KerasImporter.load`).
    public static func load(path: String, configPath: String? = nil) throws(QConvertError) -> LoadedModel {
        try isolatedReadCheck?(path, configPath)
        OpRegistry.install()
        do {
            let imported = try KerasImporter.load(path: path, configPath: configPath)
            let version = imported.kerasVersion.map { " \($0)" } ?? ""
            let container: String
            switch imported.container {
            case .legacyH5: container = "\(imported.format == .keras2 ? "Keras 2" : "Keras 3") legacy .h5"
            case .kerasArchive: container = ".keras archive"
            case .weightsWithConfig: container = "Keras 3 .weights.h5 + JSON config"
            }
            let origin = "Keras\(version) (\(container))"
            return LoadedModel(graph: imported.graph, path: path, origin: origin)
        } catch {
            throw .keras(error)
        }
    }
}
