import Foundation
import HDF5
import Ops
import XCTest

/// The committed fixtures (`fixtures/<name>/model.h5`, `data.h5`, `calib.h5`, `meta.json`).
public enum Fixtures {
    /// The repository root, found from this file's location.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Installs the op registry first: fixtures hold registered ops (tv_cnn's TVSmoothing layers).
    public static let root: URL = {
        OpRegistry.install()
        return repositoryRoot.appendingPathComponent("fixtures")
    }()

    /// Names of the Keras model fixtures (folders holding a `model.h5`), sorted.
    public static var modelNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { FileManager.default.fileExists(atPath: path($0, "model.h5")) }.sorted()
    }

    public static func path(_ fixture: String, _ file: String) -> String {
        root.appendingPathComponent(fixture).appendingPathComponent(file).path
    }

    /// Whether the fixture's reference outputs are logits (compared relatively) rather than probabilities.
    public static func outputsAreLogits(_ fixture: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path(fixture, "meta.json")),
              let meta = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return (meta["output_kind"] as? String) == "logits"
    }

    /// A fresh temporary folder, removed when the test ends.
    public static func temporaryFolder(_ test: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("qconvert-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// Reference outputs of a fixture, read from its `data.h5`.
public struct FixtureData {
    public var inputs: [Float]
    public var inputShape: [Int]
    public var outputs: [Float]
    public var outputShape: [Int]
    public var labels: [Int64]

    public init(_ fixture: String, file: String = "data.h5") throws {
        let h5 = try HDF5File.open(Fixtures.path(fixture, file))
        let inputs = try h5.root.dataset("inputs")
        self.inputs = try inputs.readFloats()
        inputShape = inputs.shape
        let outputs = try h5.root.dataset("outputs")
        self.outputs = try outputs.readFloats()
        outputShape = outputs.shape
        labels = h5.root.contains("labels") ? try h5.root.dataset("labels").readInt64s() : []
    }

    public var count: Int { inputShape[0] }
}
