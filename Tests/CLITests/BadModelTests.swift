import Foundation
import HDF5
import QCTestSupport
import XCTest

/// Model files that are valid HDF5 with a readable `model_config`, but whose config cannot be
/// honoured: each ends with one line naming the file, the layer and what is wrong, and exit code 2.
///
/// The files are real fixtures rewritten: the config is parsed, one layer edited, and written with
/// every weight dataset into a new file, so everything except the edit is what Keras saved.
final class BadModelTests: XCTestCase {
    var folder: URL!
    let fixture = "resnet_bn"

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder(self)
    }

    /// A layer whose class qconvert does not import: the message names the layer, its class and the
    /// supported classes.
    func testUnsupportedLayerClass() throws {
        var renamed = ""
        let path = try rewrittenFixture("unsupported.h5") { layers in
            let index = try XCTUnwrap(layers.firstIndex { $0["class_name"] as? String == "BatchNormalization" },
                                      "\(fixture) has no BatchNormalization layer to replace")
            layers[index]["class_name"] = "GroupNormalization"
            renamed = try XCTUnwrap((layers[index]["config"] as? [String: Any])?["name"] as? String)
        }
        try assertBadModel(path, mentions: [path, "'\(renamed)'", "GroupNormalization", "supported classes",
                                            "Conv2D", "BatchNormalization", "Dense"])
    }

    /// A Dense layer whose `units` no longer match its stored kernel: the message names the layer and
    /// weight, and gives the shape the config implies next to the shape found in the file.
    func testWeightShapeDisagreesWithConfig() throws {
        var layerName = "", units = 0
        let path = try rewrittenFixture("wrong-units.h5") { layers in
            let index = try XCTUnwrap(layers.lastIndex { $0["class_name"] as? String == "Dense" }, "\(fixture) has no Dense layer")
            var config = try XCTUnwrap(layers[index]["config"] as? [String: Any])
            layerName = try XCTUnwrap(config["name"] as? String)
            units = try XCTUnwrap(config["units"] as? Int)
            config["units"] = units + 2
            layers[index]["config"] = config
        }
        let kernel = try storedKernelShape(layer: layerName)
        XCTAssertEqual(kernel.last, units, "the fixture's kernel should end in units")
        let found = "[\(kernel.map(String.init).joined(separator: ", "))]"
        let expected = "[\(kernel.dropLast().map(String.init).joined(separator: ", ")), \(units + 2)]"
        try assertBadModel(path, mentions: [path, "'\(layerName)'", "kernel", expected, found])
    }

    // MARK: - Helpers

    /// Runs `qconvert inspect` on `path` and checks exit code 2 and a single `error:` line
    /// mentioning every item of `mentions`.
    private func assertBadModel(_ path: String, mentions: [String],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CLIRunner.run(["inspect", path])
        XCTAssertEqual(result.status, 2, "exit status; stderr: \(result.stderr)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("error: "), result.stderr, file: file, line: line)
        for m in mentions {
            XCTAssertTrue(result.stderr.contains(m), "'\(m)' missing from: \(result.stderr)", file: file, line: line)
        }
        XCTAssertEqual(result.stdout, "", "nothing may be printed on stdout", file: file, line: line)
    }

    /// Writes a copy of the fixture's `model.h5` as `name` in the test folder, with `edit` applied to
    /// `model_config`'s `config.layers`; returns its path. Root attributes `keras_version` and
    /// `backend` and every layer's `weight_names` and weight datasets are copied as they are.
    private func rewrittenFixture(_ name: String, edit: (inout [[String: Any]]) throws -> Void) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try withoutActuallyEscaping(edit) { edit in try HostileFiles.model(fixture, to: path, config: edit) }
        return path
    }

    /// Shape of the first weight (the kernel) listed for `layer` in the fixture's file.
    private func storedKernelShape(layer: String) throws -> [Int] {
        let group = try HDF5File.open(Fixtures.path(fixture, "model.h5")).root.group("model_weights/\(layer)")
        let first = try XCTUnwrap(try group.stringArrayAttribute("weight_names").first)
        XCTAssertTrue(first.contains("kernel"), "first weight of \(layer) is \(first)")
        return try group.dataset(first).shape
    }
}
