// libFuzzer entry for the Keras importer, built by tools/fuzz-keras.sh together with
// Sources/KerasImport/*.swift (one module, so no `import KerasImport`). Not part of the SwiftPM package.
import Foundation
import HDF5
import QCore

/// The first byte picks what the rest is:
/// - even: a `model_config` JSON text, imported against the weights of a real fixture
///   (`QC_FUZZ_WEIGHTS`, opened once), so mutations reach layer parsing, shape inference and weight
///   checks with real datasets behind them;
/// - odd: a whole `.h5` file, written to a temporary file and loaded (libhdf5's parser plus ours).
///
/// Every input must import or throw `KerasImportError`; a trap, crash or sanitizer report is a bug.
/// Whole-dataset reads are capped at 64 MB (the memory budget the CLI applies).
@_cdecl("LLVMFuzzerTestOneInput")
public func kerasFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    HDF5Dataset.maxWholeReadBytes = 64 << 20
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let mode = ProcessInfo.processInfo.environment["QC_FUZZ_MODE"]
    if mode == "config" || (mode != "file" && data[0] & 1 == 0) {
        let json = String(decoding: body, as: UTF8.self)
        _ = try? KerasImporter.importModel(json: json, path: "fuzz.h5", kerasVersion: nil, backend: nil, weights: FuzzWeights.shared)
    } else {
        let path = FuzzWeights.scratch
        guard FileManager.default.createFile(atPath: path, contents: Data(body)) else { return 0 }
        _ = try? KerasImporter.load(path: path)
    }
    return 0
}

/// With `QC_FUZZ_WRITE_SEEDS=DIR`, writes the seeds from the `.h5` files named on the command line
/// (mode 0: each `model_config`; mode 1: the smallest file) and exits, instead of fuzzing.
@_cdecl("LLVMFuzzerInitialize")
public func kerasFuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    guard let folder = ProcessInfo.processInfo.environment["QC_FUZZ_WRITE_SEEDS"] else { return 0 }
    let files = CommandLine.arguments.dropFirst().filter { $0.hasSuffix(".h5") }
    var smallest: (path: String, size: Int)?
    for path in files {
        guard let file = try? HDF5File.open(path), let config = try? file.root.stringAttribute("model_config") else { continue }
        let name = URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent
        FileManager.default.createFile(atPath: "\(folder)/config-\(name)", contents: Data([0] + Array(config.utf8)))
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? Int.max
        if size < smallest?.size ?? Int.max { smallest = (path, size) }
    }
    if let smallest, let bytes = FileManager.default.contents(atPath: smallest.path) {
        FileManager.default.createFile(atPath: "\(folder)/file-smallest", contents: Data([1]) + bytes)
    }
    exit(0)
}

enum FuzzWeights {
    nonisolated(unsafe) static let shared: HDF5Weights = {
        let path = ProcessInfo.processInfo.environment["QC_FUZZ_WEIGHTS"] ?? "fixtures/resnet_bn/model.h5"
        let group = try? HDF5File.open(path).root.group("model_weights")
        return HDF5Weights(group: group, path: path)
    }()
    static let scratch = NSTemporaryDirectory() + "/qc-keras-fuzz-\(getpid()).h5"
}
