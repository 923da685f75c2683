import Foundation
import QCTestSupport
import XCTest

/// `--bias-absorption` through the built binary: the rewrite is listed in the report's
/// `recipe.rewrites` with the probe's measured errors, and `off` leaves it out.
final class BiasAbsorptionCLITests: XCTestCase {
    var folder: URL!
    override func setUpWithError() throws { folder = try Fixtures.temporaryFolder(self) }

    private func rewrites(_ extra: [String]) throws -> [[String: Any]] {
        let out = folder.appendingPathComponent("m.qbin").path
        let result = try CLIRunner.run([Fixtures.path("zoo/sepconv_wide", "model.h5"), out,
                                        "--calibration", Fixtures.path("zoo/sepconv_wide", "calib.h5"), "--calibration-samples", "128",
                                        "--eval", Fixtures.path("zoo/sepconv_wide", "data.h5"), "--noise-floor-draws", "0", "--quiet"] + extra)
        XCTAssertEqual(result.status, 0, result.stderr)
        let data = try Data(contentsOf: folder.appendingPathComponent("m.report.json"))
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let recipe = try XCTUnwrap(report["recipe"] as? [String: Any])
        return recipe["rewrites"] as? [[String: Any]] ?? []
    }

    /// zoo/sepconv_wide: its depthwise -> pointwise pairs are centred (the depthwise outputs are linear)
    /// and the probe's error drops (0.021 -> 0.014 at 8 bits on 64 samples); its ReLU -> padded
    /// depthwise pairs are declined with the reason.
    func testAbsorptionIsListedWithItsMeasuredReason() throws {
        let on = try rewrites(["--bits", "8"])
        let kept = try XCTUnwrap(on.first { $0["rewrite"] as? String == "bias-absorption" && $0["applied"] as? Bool == true }, "\(on)")
        let reason = try XCTUnwrap(kept["reason"] as? String)
        XCTAssertTrue(reason.contains("sep1/depthwise -> sep1") && reason.contains("output relative error on 64 calibration samples"), reason)
        XCTAssertTrue(on.contains { $0["rewrite"] as? String == "bias-absorption" && $0["applied"] as? Bool == false
                        && ($0["reason"] as? String ?? "").contains("pads with zeros") }, "\(on)")

        let off = try rewrites(["--bits", "8", "--bias-absorption", "off"])
        XCTAssertFalse(off.contains { $0["rewrite"] as? String == "bias-absorption" }, "\(off)")
        XCTAssertTrue(off.contains { $0["rewrite"] as? String == "cross-layer-equalization" }, "the other rewrites stay")

        let bad = try CLIRunner.run([Fixtures.path("zoo/sepconv_wide", "model.h5"), folder.appendingPathComponent("x.qbin").path,
                                     "--bias-absorption", "maybe"])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("--bias-absorption must be on or off, got 'maybe'"), bad.stderr)
    }
}
