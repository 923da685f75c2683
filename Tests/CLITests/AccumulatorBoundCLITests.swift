import Foundation
@testable import QBin
import QCTestSupport
import XCTest

/// `inspect` shows each op's int32 accumulator bound and headroom; a file whose bound exceeds int32
/// is refused with exit 2 (`docs/qbin-format.md`, section 5.3).
final class AccumulatorBoundCLITests: XCTestCase {
    func testInspectShowsBoundAndHeadroom() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let paths = try QBinTestModel.write(QBinTestModel.make(), samples: 1, in: folder)
        // conv: K = 3 * 3 * 2 = 18, u8 input with zero point 0, max|q_w| = 7, largest |bias| 900 (channel 3).
        let bound = 900 + 18 * 255 * 7
        let json = try CLIRunner.run(["inspect", paths.model, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let ops = try XCTUnwrap(document["ops"] as? [[String: Any]])
        let conv = try XCTUnwrap(ops[0]["accumulator"] as? [String: Any])
        XCTAssertEqual(conv["products"] as? Int, 18)
        XCTAssertEqual(conv["bound"] as? Int, bound)
        XCTAssertEqual(conv["channel"] as? Int, 3)
        XCTAssertEqual(conv["headroomBits"] as? Int, 15)  // 33,030 < 2^16
        XCTAssertNil(ops[1]["accumulator"])  // globalAveragePool2D accumulates no products
        XCTAssertNotNil(ops[2]["accumulator"])

        let table = try CLIRunner.run(["inspect", paths.model])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("headroom"), table.stdout)
        let convRow = try XCTUnwrap(table.stdout.split(separator: "\n").first { $0.hasPrefix("0 ") })
        XCTAssertTrue(convRow.contains("33,030") && convRow.hasSuffix("15 bits"), String(convRow))
    }

    func testCraftedFileWithBoundPastInt32IsRefused() throws {
        let folder = try Fixtures.temporaryFolder(self)
        var model = QBinTestModel.make()
        let index = try XCTUnwrap(model.tensorIndex(named: "conv/bias"))
        model.tensors[index] = .constant("conv/bias", shape: [4], type: .int32, scales: [0.0001],
                                         values: [120, -340, Int32.max - 32_129, 900])  // 18 * 255 * 7 = 32,130
        let (data, offsets) = QBinWriter.encodeData(model)
        let bytes = QBinWriter.assemble([(1, QBinWriter.encodeMetadata(model)), (2, QBinWriter.encodeTensors(model, blobOffsets: offsets)),
                                         (3, QBinWriter.encodeOps(model)), (4, data)])
        let path = folder.appendingPathComponent("overflow.qbin").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        for arguments in [["inspect", path], ["inspect", path, "--json"]] {
            let result = try CLIRunner.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stdout) \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("accumulator bound"), result.stderr)
            XCTAssertTrue(result.stderr.contains("\(Int64(Int32.max) + 1) > 2^31 - 1"), result.stderr)
        }
    }
}
