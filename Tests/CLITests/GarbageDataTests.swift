import Foundation
import HDF5
import QCTestSupport
import XCTest

/// Calibration data that is all NaN, infinite or absurd, and an empty evaluation set, were silently
/// accepted (issue 12): they now convert with a `warning:` (exit 0), and fail under `--strict` (exit 1).
final class GarbageDataTests: XCTestCase {
    var folder: URL!
    let model = Fixtures.path("resnet_bn", "model.h5")
    let quick = ["--noise-floor-draws", "0"]

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder(self)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func calibration(_ name: String, value: Double, count: Int = 24) throws -> String {
        let file = path(name)
        let h5 = try HDF5File.create(file)
        let values = [Double](repeating: value, count: count * 28 * 28)
        let d = try h5.root.createDataset("inputs", shape: [count, 28, 28, 1], type: .float64)
        try values.withUnsafeBufferPointer { try d.writeDoubles(rows: 0..<count, from: $0) }
        try h5.flush()
        return file
    }

    func testNonFiniteAndAbsurdCalibrationDataWarn() throws {
        for (name, value) in [("nan.h5", Double.nan), ("inf.h5", Double.infinity), ("huge.h5", 1e300), ("big.h5", 1e35)] {
            let calib = try calibration(name, value: value)
            let result = try CLIRunner.run(["convert", model, path(name + ".qbin"), "--calibration", calib] + quick)
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("warning: calibration data \(calib)"), "\(name): \(result.stderr)")
            let strict = try CLIRunner.run(["convert", model, path(name + ".strict.qbin"), "--calibration", calib, "--strict"] + quick)
            XCTAssertEqual(strict.status, 1, "\(name) --strict: \(strict.stderr)")
        }
        let clean = try CLIRunner.run(["convert", model, path("clean.qbin"), "--calibration", Fixtures.path("resnet_bn", "calib.h5"),
                                       "--calibration-samples", "16"] + quick)
        XCTAssertFalse(clean.stderr.contains("warning: calibration data"), clean.stderr)
    }

    func testEmptyEvaluationSetWarns() throws {
        let eval = path("empty.h5")
        let h5 = try HDF5File.create(eval)
        _ = try h5.root.createDataset("inputs", shape: [0, 28, 28, 1], type: .float32)
        try h5.flush()
        let result = try CLIRunner.run(["convert", model, path("o.qbin"), "--eval", eval, "--calibration-samples", "4"] + quick)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("warning: the evaluation set"), result.stderr)
        XCTAssertTrue(result.stderr.contains("is empty"), result.stderr)
    }
}
