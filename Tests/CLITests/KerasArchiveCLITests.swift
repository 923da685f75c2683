import Foundation
import QCTestSupport
import XCTest

/// `.keras` archives through the CLI: a real one converts like its `.h5`; a damaged one exits 2
/// with one line naming it, and nothing appears next to the output path or anywhere in the folder.
final class KerasArchiveCLITests: XCTestCase {
    func testKerasArchiveConvertsLikeTheLegacyFile() throws {
        let folder = try Fixtures.temporaryFolder(self)
        var sizes: [Int] = []
        for model in ["model.keras", "model.h5"] {
            let out = folder.appendingPathComponent("\(model).qbin").path
            let result = try CLIRunner.run([Fixtures.path("resnet_bn", model), out, "--bits", "8", "--quiet",
                                            "--calibration", Fixtures.path("resnet_bn", "calib.h5"), "--calibration-samples", "64"])
            XCTAssertEqual(result.status, 0, result.stderr)
            sizes.append(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: out)[.size] as? Int))
        }
        // Same graph and calibration: the same ops and tensors (the metadata names the source file, so bytes differ).
        XCTAssertEqual(Set(sizes).count, 1, "the .keras and .h5 of one model give .qbin files of one size: \(sizes)")
    }

    func testTruncatedArchiveExits2AndWritesNothing() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("resnet_bn", "model.keras")))
        let model = folder.appendingPathComponent("cut.keras")
        try bytes.prefix(bytes.count - 100).write(to: model)
        let out = folder.appendingPathComponent("out.qbin").path
        let result = try CLIRunner.run([model.path, out, "--calibration", Fixtures.path("resnet_bn", "calib.h5"), "--quiet"])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("error: ") && result.stderr.contains(model.path), result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["cut.keras"])
    }
}
