import Foundation
import HDF5
import QCTestSupport
import XCTest

/// `qconvert IN.h5 OUT.qbin` (convert is the default subcommand) and `qconvert validate` through the built binary.
final class ConvertValidateTests: XCTestCase {
    var folder: URL!
    let fixture = "keras2_cnn"
    var model: String { Fixtures.path(fixture, "model.h5") }
    var calib: String { Fixtures.path(fixture, "calib.h5") }
    var data: String { Fixtures.path(fixture, "data.h5") }

    override func setUpWithError() throws { folder = try Fixtures.temporaryFolder(self) }

    func testConvertThenValidatePassesAndAFailingGateExits1() throws {
        let out = folder.appendingPathComponent("m.qbin").path
        let html = folder.appendingPathComponent("m.html").path
        let convert = try CLIRunner.run([model, out, "--bits", "8", "--calibration", calib, "--calibration-samples", "128",
                                         "--eval", data, "--report-html", html, "--min-agreement", "0.98", "--noise-floor-draws", "2"])
        XCTAssertEqual(convert.status, 0, convert.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
        let reportPath = folder.appendingPathComponent("m.report.json").path
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as? [String: Any]
        XCTAssertEqual(report?["schemaVersion"] as? String, "1.4")
        let floor = (report?["evaluation"] as? [String: Any])?["noiseFloor"] as? [String: Any]
        XCTAssertEqual(floor?["draws"] as? Int, 2)
        XCTAssertEqual(floor?["shareAtGate"] as? Double, 1, "keras2_cnn's floor at W8A8 is far above the 0.98 gate")
        XCTAssertTrue(convert.stderr.contains("noise floor:"), convert.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertTrue(page.contains("<svg") && !page.contains("<script"))
        XCTAssertTrue(page.contains("thresholds checked by qconvert convert"), "convert's own --min-agreement gate")

        let pass = try CLIRunner.run(["validate", out, "--reference", data, "--min-agreement", "0.995", "--max-lsb-error", "1"])
        XCTAssertEqual(pass.status, 0, pass.stderr)
        let fail = try CLIRunner.run(["validate", out, "--reference", data, "--min-agreement", "1.0", "--min-output-sqnr", "90"])
        XCTAssertEqual(fail.status, 1, fail.stderr)
        XCTAssertTrue(fail.stderr.contains("gate failed: min-output-sqnr"), fail.stderr)
    }

    /// The CI use on every fixture: convert at W8A8 with all 512 calibration images, then
    /// `validate` against the Keras reference outputs with `--min-agreement 0.995` (exit 0). ops_zoo
    /// reaches 99.33 % (two near-tie images of 300; docs/quantization.md), so it is held to 0.99 and its
    /// 0.995 run must fail with exit 1 and name the gate; its conversion with the same gate also fails,
    /// and says that the float model's own noise floor at these grids is below the gate.
    func testValidatePassesAtW8A8OnEveryFixture() throws {
        for name in Fixtures.modelNames {
            let out = folder.appendingPathComponent("\(name).qbin").path
            let opsZoo = name == "ops_zoo"
            let convert = try CLIRunner.run([Fixtures.path(name, "model.h5"), out, "--bits", "8", "--quiet",
                                             "--calibration", Fixtures.path(name, "calib.h5"), "--eval", Fixtures.path(name, "data.h5"),
                                             "--noise-floor-draws", opsZoo ? "4" : "0"] + (opsZoo ? ["--min-agreement", "0.995"] : []))
            XCTAssertEqual(convert.status, opsZoo ? 1 : 0, "\(name): \(convert.stderr)")
            if opsZoo {
                XCTAssertTrue(convert.stderr.contains("gate failed: min-agreement") && convert.stderr.contains("noise floor"), convert.stderr)
            }
            let gate = name == "ops_zoo" ? "0.99" : "0.995"
            let validate = try CLIRunner.run(["validate", out, "--reference", Fixtures.path(name, "data.h5"),
                                              "--min-agreement", gate, "--max-lsb-error", "1"])
            XCTAssertEqual(validate.status, 0, "\(name): \(validate.stdout) \(validate.stderr)")
            if name == "ops_zoo" {
                let strict = try CLIRunner.run(["validate", out, "--reference", Fixtures.path(name, "data.h5"), "--min-agreement", "0.995"])
                XCTAssertEqual(strict.status, 1, strict.stderr)
                XCTAssertTrue(strict.stderr.contains("gate failed: min-agreement"), strict.stderr)
            }
        }
    }

    func testBadOptionsAreUsageErrors() throws {
        let out = folder.appendingPathComponent("x.qbin").path
        let bits = try CLIRunner.run([model, out, "--bits", "9"])
        XCTAssertEqual(bits.status, 64, bits.stderr)
        XCTAssertTrue(bits.stderr.contains("between 2 and 8"), bits.stderr)
        let method = try CLIRunner.run([model, out, "--calibration-method", "entropy"])
        XCTAssertEqual(method.status, 64, method.stderr)
        XCTAssertTrue(method.stderr.contains("minmax") && method.stderr.contains("aciq"), method.stderr)
        let draws = try CLIRunner.run([model, out, "--noise-floor-draws", "5000"])
        XCTAssertEqual(draws.status, 64, draws.stderr)
        XCTAssertTrue(draws.stderr.contains("--noise-floor-draws must be between 0 and 1000"), draws.stderr)
        let layer = try CLIRunner.run([model, out, "--layer-bits", "no_such_layer=4", "--calibration", calib])
        XCTAssertEqual(layer.status, 64, layer.stderr)
        XCTAssertTrue(layer.stderr.contains("no_such_layer") && layer.stderr.contains("weighted layers"), layer.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written on a bad option")
    }

    func testCalibrationFileWithWrongShape() throws {
        let path = folder.appendingPathComponent("wrong.h5").path
        let h5 = try HDF5File.create(path)
        try h5.root.writeDataset("inputs", shape: [4, 14, 14, 1], floats: [Float](repeating: 0, count: 4 * 14 * 14))
        let out = folder.appendingPathComponent("x.qbin").path
        let result = try CLIRunner.run([model, out, "--calibration", path])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains(path) && result.stderr.contains("28 x 28 x 1"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }
}
