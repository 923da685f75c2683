import Foundation
import QCTestSupport
import QConvertKit
import Report
import XCTest

/// The zoo of issue 10 (`fixtures/zoo`, tools/make_zoo.py): models shaped like the public ones that
/// broke the converter, and the bars every fixture and zoo model must meet, set by its noise floor.
final class ZooTests: XCTestCase {
    static let zoo = ["bn_act_raw", "dead_bn_raw", "relu_logits_k2", "outlier_k2", "sepconv_wide", "mini_xception"]

    static func convert(_ fixture: String, bits: Int, in folder: URL, noiseDraws: Int = 0,
                        configure: (inout ConvertOptions) -> Void = { _ in }) throws -> FidelityReport {
        let output = folder.appendingPathComponent("\(fixture.replacingOccurrences(of: "/", with: "_"))-\(bits).qbin").path
        var options = ConvertOptions(modelPath: Fixtures.path(fixture, "model.h5"), outputPath: output)
        options.recipe.weightBits = bits
        options.recipe.activationBits = bits
        options.calibrationPath = Fixtures.path(fixture, "calib.h5")
        options.calibrationSamples = 128
        options.evaluationPath = Fixtures.path(fixture, "data.h5")
        options.noiseFloorDraws = noiseDraws
        configure(&options)
        return try ConvertJob(options: options).run().report.report
    }

    /// The issue's reproduction: conv + ReLU -> BatchNorm with 3 dead channels (moving variance 1e-11)
    /// -> unpadded conv, raw 0..255 inputs. The forward fold multiplies conv2's weights reading dead
    /// channels by ~31.6 against ~0.2 on live ones; the old algebraic path (fold always, constant channels
    /// kept) rounds most live weights to 0. Measured: 70.3 % old path, >= 99 % now.
    func testDeadChannelReproductionHoldsAtW8A8() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let report = try Self.convert("zoo/dead_bn_raw", bits: 8, in: folder)
        let agreement = try XCTUnwrap(report.evaluation?.top1Agreement)
        XCTAssertGreaterThanOrEqual(agreement, 0.99, "dead_bn_raw W8A8")
        let rewrites = report.recipe.rewrites ?? []
        let moved = try XCTUnwrap(rewrites.first { $0.rewrite == "constant-input-channels" && $0.layer == "conv2" })
        XCTAssertTrue(moved.applied && moved.reason.contains("0 (= 0.0)") && moved.reason.contains("11 (= 0.0)"), moved.reason)
        XCTAssertTrue(rewrites.contains { $0.rewrite == "batchnorm-forward-fold" && $0.layer == "bn1" }, "\(rewrites)")

        let old = try Self.convert("zoo/dead_bn_raw", bits: 8, in: folder, noiseDraws: 4) {
            $0.forwardFolds = .always
            $0.recipe.constantChannelsToBias = false
        }
        let oldAgreement = try XCTUnwrap(old.evaluation?.top1Agreement)
        XCTAssertLessThan(oldAgreement, agreement - 0.1, "the algebraic fold is the failure the rewrite fixes")
        // Far below its floor: the conversion says so, naming conv2 and the zeroed weights.
        let warning = try XCTUnwrap(old.warnings.first { $0.contains("below the noise floor") }, "\(old.warnings)")
        XCTAssertTrue(warning.contains("'conv2'") && warning.contains("weight codes are 0"), warning)
    }

    /// Every fixture and zoo model at W8A8 and W4A4 against bars from its own noise floor:
    /// W8A8 >= min(99.5 %, floor) - 0.5 pt, W4A4 >= min(95 %, floor) - 2 pt (issue 10).
    func testEveryModelMeetsItsNoiseFloorBars() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let models = Fixtures.modelNames + Self.zoo.map { "zoo/" + $0 }
        var failures: [String] = []
        for model in models {
            for (bits, cap, margin) in [(8, 0.995, 0.005), (4, 0.95, 0.02)] {
                let report = try Self.convert(model, bits: bits, in: folder, noiseDraws: 4)
                let agreement = try XCTUnwrap(report.evaluation?.top1Agreement, model)
                let floor = try XCTUnwrap(report.evaluation?.noiseFloor?.top1AgreementMean, model)
                let bar = min(cap, floor) - margin
                if agreement < bar {
                    failures.append(String(format: "%@ W%dA%d: %.4f < bar %.4f (floor %.4f)", model, bits, bits, agreement, bar, floor))
                }
                // Nothing far below its floor passes silently.
                if agreement < floor - 0.05 {
                    XCTAssertFalse(report.warnings.isEmpty, "\(model) W\(bits)A\(bits) is > 5 pt below its floor without a warning")
                }
            }
        }
        XCTAssertTrue(failures.isEmpty, failures.joined(separator: "\n"))
    }
}
