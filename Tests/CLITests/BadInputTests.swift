import Foundation
import HDF5
import QCTestSupport
import XCTest

/// Every bad input ends with one line naming the culprit and exit code 2, never a crash.
final class BadInputTests: XCTestCase {
    var folder: URL!
    let model = Fixtures.path("resnet_bn", "model.h5")
    let data = Fixtures.path("resnet_bn", "data.h5")

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder(self)
    }

    private func file(_ name: String, _ contents: Data) throws -> String {
        let url = folder.appendingPathComponent(name)
        try contents.write(to: url)
        return url.path
    }

    /// Runs the CLI and checks exit code 2, a single `error:` line mentioning every `mentions` item.
    private func assertBadInput(_ arguments: [String], mentions: [String],
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try CLIRunner.run(arguments)
        XCTAssertEqual(result.status, 2, "exit status for \(arguments); stderr: \(result.stderr)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "expected one line, got: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("error: "), result.stderr, file: file, line: line)
        for m in mentions {
            XCTAssertTrue(result.stderr.contains(m), "'\(m)' missing from: \(result.stderr)", file: file, line: line)
        }
    }

    func testMissingFile() throws {
        let missing = folder.appendingPathComponent("nope.h5").path
        try assertBadInput(["inspect", missing], mentions: [missing])
    }

    func testEmptyFile() throws {
        let empty = try file("empty.h5", Data())
        try assertBadInput(["inspect", empty], mentions: [empty])
    }

    func testNotHDF5() throws {
        let text = try file("model.h5", Data("this is not an HDF5 file\n".utf8))
        try assertBadInput(["inspect", text], mentions: [text, "HDF5"])
    }

    func testTruncatedFile() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: model))
        for fraction in [0.1, 0.5, 0.9] {
            let cut = try file("truncated-\(fraction).h5", bytes.prefix(Int(Double(bytes.count) * fraction)))
            try assertBadInput(["inspect", cut], mentions: [cut])
        }
    }

    func testFileWithoutModelConfig() throws {
        let path = folder.appendingPathComponent("weights-only.h5").path
        let h5 = try HDF5File.create(path)
        _ = try h5.root.createGroup("model_weights")
        try assertBadInput(["inspect", path], mentions: [path, "model_config"])
    }

    func testInputWithWrongShape() throws {
        let path = folder.appendingPathComponent("wrong.h5").path
        let h5 = try HDF5File.create(path)
        try h5.root.writeDataset("inputs", shape: [4, 14, 14, 1], floats: [Float](repeating: 0, count: 4 * 14 * 14))
        let out = folder.appendingPathComponent("out.h5").path
        try assertBadInput(["run", model, "--input", path, "--output", out], mentions: [path, "inputs", "28 x 28 x 1"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no output may be left behind")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("tmp") }
        XCTAssertEqual(leftovers, [], "temporary files left behind")
    }

    func testMissingDataset() throws {
        let out = folder.appendingPathComponent("out.h5").path
        try assertBadInput(["run", model, "--input", data, "--output", out, "--dataset", "images"],
                           mentions: [data, "images", "inputs"])
    }

    func testUsageErrorsExit64() throws {
        let result = try CLIRunner.run(["run", model, "--input", data, "--output", "/tmp/x.h5", "--batch-size", "0"])
        XCTAssertEqual(result.status, 64, result.stderr)
        XCTAssertTrue(result.stderr.contains("--batch-size"), result.stderr)
    }
}
