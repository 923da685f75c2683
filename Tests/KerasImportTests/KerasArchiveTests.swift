import Foundation
import HDF5
import QCore
import XCTest
import ZIPFoundation
@testable import KerasImport

/// Keras 3's own formats: `.keras` archives and `.weights.h5` + JSON, written by real Keras
/// (tools/make_keras_archives.py) from the committed fixtures, must give the very graph the legacy
/// `.h5` of the same model gives; damaged or hostile archives are refused with a clear error.
final class KerasArchiveTests: XCTestCase {
    static let fixtures = FixtureImportTests.fixtures

    static func path(_ name: String, _ file: String) -> String {
        fixtures.appendingPathComponent(name).appendingPathComponent(file).path
    }

    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("qconvert-archive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let created = folder!
        addTeardownBlock { try? FileManager.default.removeItem(at: created) }
    }

    // MARK: - Real files

    /// Every fixture's `model.keras` (Keras 3.15.1) imports to the same graph as its `model.h5`:
    /// same nodes, shapes, options and bit-identical weights.
    func testKerasArchivesGiveTheLegacyGraph() throws {
        let names = FixtureImportTests.fixtureNames.filter { FileManager.default.fileExists(atPath: Self.path($0, "model.keras")) }
        XCTAssertGreaterThanOrEqual(names.count, 5, "model.keras fixtures missing: run tools/make_keras_archives.py")
        for name in names {
            let archive = try KerasImporter.load(path: Self.path(name, "model.keras"))
            let legacy = try KerasImporter.load(path: Self.path(name, "model.h5"))
            XCTAssertEqual(archive.container, .kerasArchive, name)
            XCTAssertEqual(archive.format, .keras3, name)
            XCTAssertEqual(archive.kerasVersion, "3.15.1", name)
            XCTAssertEqual(archive.graph, legacy.graph, "\(name): .keras and .h5 graphs differ")
        }
    }

    /// Keras 3.0.5 wrote these (no `name` attribute on `vars` groups: layers match by class order).
    func testKeras30ArchivesGiveTheLegacyGraph() throws {
        var found = 0
        for name in ["resnet_bn", "seq_bn_after_act"] {
            let path = Self.path(name, "model-keras3.0.keras")
            guard FileManager.default.fileExists(atPath: path) else { continue }
            found += 1
            let archive = try KerasImporter.load(path: path)
            XCTAssertEqual(archive.kerasVersion?.hasPrefix("3.0."), true, name)
            XCTAssertEqual(archive.graph, try KerasImporter.load(path: Self.path(name, "model.h5")).graph, name)
        }
        XCTAssertEqual(found, 2, "model-keras3.0.keras fixtures missing: run tools/make_keras_archives.py --keras30")
    }

    /// `model.weights.h5` (save_weights) finds `model.json` beside it; the graph is the legacy one.
    func testWeightsFileWithJSONConfig() throws {
        let model = try KerasImporter.load(path: Self.path("resnet_bn", "model.weights.h5"))
        XCTAssertEqual(model.container, .weightsWithConfig)
        XCTAssertEqual(model.graph, try KerasImporter.load(path: Self.path("resnet_bn", "model.h5")).graph)
    }

    /// Without a config beside it, the weights file is refused with the places looked at.
    func testWeightsFileWithoutConfig() throws {
        let copy = folder.appendingPathComponent("lonely.weights.h5")
        try FileManager.default.copyItem(atPath: Self.path("resnet_bn", "model.weights.h5"), toPath: copy.path)
        assertRefused(copy.path) {
            guard case .weightsWithoutConfig(_, let tried) = $0 else { return false }
            return tried.contains(self.folder.appendingPathComponent("lonely.json").path)
        }
    }

    /// Pre-3.6 files are matched by class order through Keras' `naming.to_snake_case`.
    func testSnakeCaseMatchesKeras() throws {
        XCTAssertEqual(Keras3Weights.snakeCase("Conv2D"), "conv2d")
        XCTAssertEqual(Keras3Weights.snakeCase("BatchNormalization"), "batch_normalization")
        XCTAssertEqual(Keras3Weights.snakeCase("ReLU"), "re_lu")
        XCTAssertEqual(Keras3Weights.snakeCase("GlobalAveragePooling2D"), "global_average_pooling2d")
        XCTAssertEqual(Keras3Weights.snakeCase("DepthwiseConv2D"), "depthwise_conv2d")
        XCTAssertEqual(Keras3Weights.snakeCase("SeparableConv2D"), "separable_conv2d")
        XCTAssertEqual(Keras3Weights.snakeCase("Conv2DTranspose"), "conv2d_transpose")
        XCTAssertEqual(Keras3Weights.snakeCase("LeakyReLU"), "leaky_re_lu")
    }

    // MARK: - Refused archives

    func testTruncatedArchive() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.path("resnet_bn", "model.keras")))
        let path = folder.appendingPathComponent("truncated.keras").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        assertRefused(path) { if case .archive(_, let detail) = $0 { return detail.contains("truncated") }; return false }
    }

    func testMissingConfig() throws {
        let path = try zip("noconfig.keras", [("metadata.json", Data("{}".utf8)), ("model.weights.h5", try fixtureWeights())])
        assertRefused(path) { if case .archive(_, let detail) = $0 { return detail.contains("no config.json") }; return false }
    }

    func testMissingWeights() throws {
        let path = try zip("noweights.keras", [("config.json", try fixtureConfig())])
        assertRefused(path) { if case .archive(_, let detail) = $0 { return detail.contains("no model.weights.h5") }; return false }
    }

    func testPathTraversalNames() throws {
        for evil in ["../evil.txt", "assets/../../evil.txt", "/etc/evil"] {
            let path = try zip("traversal.keras", [("config.json", try fixtureConfig()), ("model.weights.h5", try fixtureWeights()),
                                                   (evil, Data("x".utf8))])
            assertRefused(path) { if case .archive(_, let detail) = $0 { return detail.contains(evil) }; return false }
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.deletingLastPathComponent().appendingPathComponent("evil.txt").path))
        }
    }

    /// 32 MiB of zeros deflate ~1000x: refused by the ratio limit before it is inflated.
    func testZipBombByRatio() throws {
        let zeros = Data(count: 32 << 20)
        let path = try zip("bomb.keras", [("config.json", try fixtureConfig()), ("model.weights.h5", zeros)], compress: true)
        assertRefused(path) { if case .archive(_, let detail) = $0 { return detail.contains("zip bomb") }; return false }
    }

    /// A member whose declared size exceeds the limit is refused before a byte is read.
    func testDeclaredSizeOverLimit() throws {
        let archive = Self.path("resnet_bn", "model.keras")
        var limits = KerasArchive.Limits.standard
        limits.weightsBytes = 1000
        XCTAssertThrowsError(try KerasArchive.read(path: archive, limits: limits)) { error in
            guard case KerasImportError.archive(_, let detail) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(detail.contains("over the limit of 1000 bytes"), detail)
        }
    }

    /// The weights of one model with the config of another: the mismatch names the layer.
    func testWeightsThatDisagreeWithTheConfig() throws {
        let other = try Data(contentsOf: URL(fileURLWithPath: Self.path("dwsep_relu6", "model.keras")))
        let otherWeights = try member("model.weights.h5", of: other)
        let path = try zip("mixed.keras", [("config.json", try fixtureConfig()), ("model.weights.h5", otherWeights)])
        assertRefused(path) {
            switch $0 {
            case .missingWeights, .weightShapeMismatch: return true
            default: return false
            }
        }
    }

    /// Weights that are not HDF5 at all.
    func testWeightsNotHDF5() throws {
        let path = try zip("garbage.keras", [("config.json", try fixtureConfig()), ("model.weights.h5", Data(repeating: 7, count: 4096))])
        assertRefused(path) { if case .archive(_, let detail) = $0 { return detail.contains("model.weights.h5") }; return false }
    }

    // MARK: - Helpers

    private func assertRefused(_ path: String, file: StaticString = #filePath, line: UInt = #line,
                               _ matches: (KerasImportError) -> Bool) {
        do {
            _ = try KerasImporter.load(path: path)
            XCTFail("\(path) imported", file: file, line: line)
        } catch {
            XCTAssertTrue(matches(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(path), "the message names the file: \(error)", file: file, line: line)
        }
    }

    private func fixtureArchive() throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: Self.path("resnet_bn", "model.keras")))
    }

    private func fixtureConfig() throws -> Data { try member("config.json", of: fixtureArchive()) }
    private func fixtureWeights() throws -> Data { try member("model.weights.h5", of: fixtureArchive()) }

    private func member(_ name: String, of zipData: Data) throws -> Data {
        let archive = try Archive(data: zipData, accessMode: .read)
        let entry = try XCTUnwrap(archive[name])
        var data = Data()
        _ = try archive.extract(entry) { data.append($0) }
        return data
    }

    /// Writes a zip of `members` into the test folder (stored, or deflated with `compress`).
    private func zip(_ name: String, _ members: [(String, Data)], compress: Bool = false) throws -> String {
        let url = folder.appendingPathComponent(name)
        try? FileManager.default.removeItem(at: url)
        let archive = try Archive(url: url, accessMode: .create)
        for (path, data) in members {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count),
                                 compressionMethod: compress ? .deflate : .none) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        return url.path
    }
}
