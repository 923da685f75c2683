import Foundation
import HDF5
import XCTest

/// Reads the Keras files in `fixtures/` (made by tools/make_fixtures.py with h5py); skipped when
/// they have not been generated.
final class FixtureTests: HDF5TestCase {
    func testKerasModelFiles() throws {
        let names = Self.fixtureNames()
        guard !names.isEmpty else { throw XCTSkip("no fixtures/*/model.h5; run tools/make_fixtures.py") }
        for name in names {
            let path = try XCTUnwrap(Self.fixture(name, "model.h5"))
            let root = try HDF5File.open(path).root
            let json = try root.stringAttribute("model_config")
            let config = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            XCTAssertNotNil(config?["class_name"], "\(name): model_config is not a Keras config")
            let weights = try root.group("model_weights")
            let layers = try weights.childNames()
            XCTAssertFalse(layers.isEmpty, name)
            var weightCount = 0
            for layer in layers {
                let group = try weights.group(layer)
                guard group.hasAttribute("weight_names") else { continue }
                // Weightless layers hold an empty float64 array here, which reads as [].
                for weightName in try group.stringArrayAttribute("weight_names") {
                    XCTAssertTrue(group.contains(weightName), "\(name): \(layer) lists missing \(weightName)")
                    let dataset = try group.dataset(weightName)
                    let values = try dataset.readFloats()
                    XCTAssertEqual(values.count, dataset.count)
                    XCTAssertTrue(values.allSatisfy(\.isFinite), "\(name): \(dataset.name)")
                    weightCount += 1
                }
            }
            XCTAssertGreaterThan(weightCount, 0, name)
        }
    }

    /// keras20_cnn stores its root attributes as fixed-length strings (Keras 2.0.8 style).
    func testFixedLengthKeras20Attributes() throws {
        guard let path = Self.fixture("keras20_cnn", "model.h5") else { throw XCTSkip("fixture keras20_cnn absent") }
        let root = try HDF5File.open(path).root
        XCTAssertTrue(try root.stringAttribute("model_config").hasPrefix("{"))
        XCTAssertFalse(try root.group("model_weights").stringArrayAttribute("layer_names").isEmpty)
    }

    /// data.h5 holds gzip + shuffle chunked /inputs: whole reads and row reads agree.
    func testCompressedInputs() throws {
        guard let path = Self.fixture("keras2_cnn", "data.h5") else { throw XCTSkip("fixture keras2_cnn absent") }
        let root = try HDF5File.open(path).root
        XCTAssertEqual(try root.childNames(), ["inputs", "labels", "outputs"])
        let inputs = try root.dataset("inputs")
        XCTAssertEqual(inputs.shape.dropFirst(), [28, 28, 1])
        XCTAssertEqual(inputs.scalarType, .float32)
        let all = try inputs.readFloats()
        XCTAssertEqual(all.count, inputs.count)
        XCTAssertTrue(all.allSatisfy { (0...1).contains($0) }, "keras2_cnn inputs are scaled to [0, 1]")
        let rowSize = inputs.rowSize
        var batch = [Float](repeating: .nan, count: 37 * rowSize)
        try batch.withUnsafeMutableBufferPointer { try inputs.readFloats(rows: 45..<82, into: $0) }
        XCTAssertEqual(batch, Array(all[45 * rowSize..<82 * rowSize]))
        let labels = try root.dataset("labels").readInt64s()
        XCTAssertEqual(labels.count, inputs.shape[0])
        XCTAssertTrue(labels.allSatisfy { (0..<10).contains($0) })
    }
}
