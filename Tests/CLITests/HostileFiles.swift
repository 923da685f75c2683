import Foundation
import HDF5
import QCTestSupport
import XCTest

/// Builders of broken input files for the robustness tests (issue 12): real fixtures copied with one
/// value edited, so everything but the edit is what Keras saved.
enum HostileFiles {
    /// Copies `fixtures/<fixture>/model.h5` to `path`, calling `edit(layer, weightName, &values)` on
    /// every stored weight.
    static func model(_ fixture: String, to path: String, config: ((inout [[String: Any]]) throws -> Void)? = nil,
                      edit: (String, String, inout [Float]) -> Void = { _, _, _ in }) throws {
        let source = try HDF5File.open(Fixtures.path(fixture, "model.h5"))
        let target = try HDF5File.create(path)
        for attribute in ["model_config", "keras_version", "backend"] where source.root.hasAttribute(attribute) {
            var text = try source.root.stringAttribute(attribute)
            if attribute == "model_config", let config {
                var top = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                var body = try XCTUnwrap(top["config"] as? [String: Any])
                var layers = try XCTUnwrap(body["layers"] as? [[String: Any]])
                try config(&layers)
                body["layers"] = layers
                top["config"] = body
                text = String(decoding: try JSONSerialization.data(withJSONObject: top), as: UTF8.self)
            }
            try target.root.setStringAttribute(attribute, text)
        }
        let weights = try source.root.group("model_weights")
        let copy = try target.root.createGroup("model_weights")
        for layer in try weights.childNames() {
            let group = try weights.group(layer)
            let layerCopy = try copy.createGroup(layer)
            guard group.hasAttribute("weight_names") else { continue }
            let names = try group.stringArrayAttribute("weight_names")
            guard !names.isEmpty else { continue }
            try layerCopy.setStringArrayAttribute("weight_names", names)
            for weight in names {
                let dataset = try group.dataset(weight)
                var values = try dataset.readFloats()
                edit(layer, weight, &values)
                try layerCopy.writeDataset(weight, shape: dataset.shape, floats: values)
            }
        }
        try target.flush()
    }

    /// The first layer (in file order) with a weight whose name contains `role`, and that weight's name.
    static func firstWeight(_ fixture: String, containing role: String) throws -> (layer: String, weight: String) {
        let weights = try HDF5File.open(Fixtures.path(fixture, "model.h5")).root.group("model_weights")
        for layer in try weights.childNames().sorted() {
            let group = try weights.group(layer)
            guard group.hasAttribute("weight_names") else { continue }
            if let name = try group.stringArrayAttribute("weight_names").first(where: { $0.contains(role) }) {
                return (layer, name)
            }
        }
        throw XCTSkip("\(fixture) has no weight named like \(role)")
    }

    /// An evaluation file: the first `count` samples of the fixture's data.h5 with `labels` as /labels.
    static func evalFile(_ fixture: String, to path: String, count: Int, labels: [Float]) throws {
        let data = try HDF5File.open(Fixtures.path(fixture, "data.h5"))
        let inputs = try data.root.dataset("inputs")
        let sample = inputs.shape.dropFirst().reduce(1, *)
        let values = Array(try inputs.readFloats().prefix(count * sample))
        let h5 = try HDF5File.create(path)
        try h5.root.writeDataset("inputs", shape: [count] + inputs.shape.dropFirst(), floats: values)
        try h5.root.writeDataset("labels", shape: [count], floats: labels)
        try h5.flush()
    }

    /// The bytes of every file in `paths`, to check afterwards that none was touched.
    static func snapshot(_ paths: [String]) -> [String: Data] {
        var result: [String: Data] = [:]
        for p in paths { result[p] = FileManager.default.contents(atPath: p) }
        return result
    }

    /// Names in `folder` that look like temporary files.
    static func temporaries(in folder: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }
    }
}

/// Runs the CLI and checks `status`, a single `error:` line (exit 2) or a usage message (64) that
/// mentions every item of `mentions`; returns the result.
@discardableResult
func assertExit(_ status: Int32, _ arguments: [String], mentions: [String],
                file: StaticString = #filePath, line: UInt = #line) throws -> CLIRunner.Result {
    let result = try CLIRunner.run(arguments)
    XCTAssertEqual(result.status, status, "exit status for \(arguments); stderr: \(result.stderr)", file: file, line: line)
    if status == 2 {
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        XCTAssertEqual(errors.count, 1, "expected one error line, got: \(result.stderr)", file: file, line: line)
    }
    for m in mentions {
        XCTAssertTrue(result.stderr.contains(m), "'\(m)' missing from: \(result.stderr)", file: file, line: line)
    }
    return result
}
