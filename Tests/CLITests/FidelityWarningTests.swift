import Foundation
import QCTestSupport
import XCTest

/// Silent failures made loud (issue 10), through the built binary: inputs on the wrong scale get a
/// `warning:` naming both ranges; `--strict` turns any warning into exit 1.
final class FidelityWarningTests: XCTestCase {
    var folder: URL!
    override func setUpWithError() throws { folder = try Fixtures.temporaryFolder(self) }

    /// keras2_cnn was trained on pixel / 255; zoo/bn_act_raw's calibration file holds raw 0..255 pixels
    /// of the same shape: calibration x255 against 0..1 evaluation data.
    func testCalibrationScaledX255AgainstUnitEvaluationWarnsAndStrictExits1() throws {
        let out = folder.appendingPathComponent("m.qbin").path
        let args = [Fixtures.path("keras2_cnn", "model.h5"), out, "--calibration", Fixtures.path("zoo/bn_act_raw", "calib.h5"),
                    "--calibration-samples", "64", "--eval", Fixtures.path("keras2_cnn", "data.h5"), "--noise-floor-draws", "0", "--quiet"]
        let plain = try CLIRunner.run(args)
        XCTAssertEqual(plain.status, 0, "a warning alone does not fail: \(plain.stderr)")
        let line = try XCTUnwrap(plain.stderr.split(separator: "\n").first { $0.hasPrefix("warning: calibration inputs lie in") }, plain.stderr)
        XCTAssertTrue(line.contains("0 ... 255") && line.contains("0 ... 1") && line.contains("255x"), String(line))
        // The first BatchNorm's training statistics say the same.
        XCTAssertTrue(plain.stderr.contains("first BatchNorm 'batch_normalization'"), plain.stderr)

        let strict = try CLIRunner.run(args + ["--strict"])
        XCTAssertEqual(strict.status, 1, strict.stderr)
        XCTAssertTrue(strict.stderr.contains("--strict: 2 warning"), strict.stderr)
    }

    /// Data-free: a raw 0..255 model (no Rescaling layer) gets synthetic 0..1 inputs; its first
    /// BatchNorm's moving statistics expose the mismatch. A 0..1 model converted data-free does not.
    func testDataFreeConversionComparesWithTheFirstBatchNorm() throws {
        let raw = try CLIRunner.run([Fixtures.path("zoo/bn_act_raw", "model.h5"), folder.appendingPathComponent("r.qbin").path,
                                     "--noise-floor-draws", "0", "--quiet"])
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertTrue(raw.stderr.contains("synthetic inputs in") && raw.stderr.contains("first BatchNorm 'bn1'")
                      && raw.stderr.contains("smaller"), raw.stderr)
        let unit = try CLIRunner.run([Fixtures.path("keras2_cnn", "model.h5"), folder.appendingPathComponent("u.qbin").path,
                                      "--noise-floor-draws", "0", "--quiet"])
        XCTAssertEqual(unit.status, 0, unit.stderr)
        XCTAssertFalse(unit.stderr.contains("first BatchNorm"), unit.stderr)
        // The matched calibration data of the fixtures gives no scale warning, and --strict passes.
        let matched = try CLIRunner.run([Fixtures.path("keras2_cnn", "model.h5"), folder.appendingPathComponent("m.qbin").path,
                                         "--calibration", Fixtures.path("keras2_cnn", "calib.h5"), "--calibration-samples", "64",
                                         "--eval", Fixtures.path("keras2_cnn", "data.h5"), "--noise-floor-draws", "0", "--quiet", "--strict"])
        XCTAssertEqual(matched.status, 0, matched.stderr)
    }
}
