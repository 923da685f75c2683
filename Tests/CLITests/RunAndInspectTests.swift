import Foundation
import HDF5
import QCTestSupport
import XCTest

/// `run` and `inspect` through the built binary, on the real fixtures.
final class RunAndInspectTests: XCTestCase {
    func testRunWritesOutputsThatMatchKeras() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let out = folder.appendingPathComponent("out.h5").path
        let result = try CLIRunner.run(["run", Fixtures.path("dwsep_relu6", "model.h5"),
                                        "--input", Fixtures.path("dwsep_relu6", "data.h5"), "--output", out, "--batch-size", "7"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let written = try HDF5File.open(out).root.dataset("outputs")
        let reference = try FixtureData("dwsep_relu6")
        XCTAssertEqual(written.shape, reference.outputShape)
        assertRowsClose(try written.readFloats(), reference.outputs, width: reference.outputShape[1], absolute: 1e-4)
    }

    func testInspectTableAndJSON() throws {
        let path = Fixtures.path("resnet_bn", "model.h5")
        let table = try CLIRunner.run(["inspect", path])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("Conv2D"), table.stdout)
        XCTAssertTrue(table.stdout.contains("total:"), table.stdout)

        let json = try CLIRunner.run(["inspect", path, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(document["schemaVersion"] as? Int, 1)
        let layers = try XCTUnwrap(document["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.last?["outputShape"] as? [Int], [10])
        let total = layers.compactMap { $0["parameters"] as? Int }.reduce(0, +)
        XCTAssertEqual(document["totalParameters"] as? Int, total)
        XCTAssertGreaterThan(document["totalMACs"] as? Int ?? 0, 0)
    }
}
