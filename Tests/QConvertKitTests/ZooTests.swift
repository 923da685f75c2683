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
        var options = ConvertOptions.fixture(fixture, bits: bits, output: output)
        options.noiseFloorDraws = noiseDraws
        configure(&options)
        return try ConvertJob(options: options).run().report.report
    }

    /// The issue's reproduction: conv + ReLU -> BatchNorm with 3 dead channels (moving variance 1e-11)
    /// -> unpadded conv, raw 0..255 inputs. The forward fold multiplies conv2's weights reading dead
    /// channels by ~31.6 against ~0.2 on live ones; the old algebraic path (fold always, constant channels
    /// kept, no equalization) rounds most live weights to 0 (78 % with all 256 calibration images).
    /// Now the fold, taken and equalized, is chosen by measurement.
    func testDeadChannelReproductionHoldsAtW8A8() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let report = try Self.convert("zoo/dead_bn_raw", bits: 8, in: folder, noiseDraws: 4)
        let agreement = try XCTUnwrap(report.evaluation?.top1Agreement)
        // The issue asks 99 %; this short-trained model's own noise floor is ~98.3-98.5 % (near-tie
        // logits), so the bar is the floor-derived one: min(99 %, floor) - 0.5 pt.
        let floor = try XCTUnwrap(report.evaluation?.noiseFloor?.top1AgreementMean)
        XCTAssertGreaterThanOrEqual(agreement, min(0.99, floor) - 0.005, "dead_bn_raw W8A8 (floor \(floor))")
        let rewrites = report.recipe.rewrites ?? []
        let moved = try XCTUnwrap(rewrites.first { $0.rewrite == "constant-input-channels" && $0.layer == "conv2" }, "\(rewrites)")
        XCTAssertTrue(moved.applied && moved.reason.contains("11 (= "), moved.reason)
        XCTAssertTrue(rewrites.contains { $0.rewrite.hasPrefix("batchnorm-forward-fold") && $0.layer == "bn1" }, "\(rewrites)")

        let old = try Self.convert("zoo/dead_bn_raw", bits: 8, in: folder, noiseDraws: 4) {
            $0.forwardFolds = .always
            $0.recipe.constantChannelsToBias = false
            $0.equalization = false
        }
        let oldAgreement = try XCTUnwrap(old.evaluation?.top1Agreement)
        XCTAssertLessThan(oldAgreement, agreement - 0.1, "the algebraic fold is the failure the rewrite fixes")
        // Far below its floor: the conversion says so, naming conv2 and the zeroed weights.
        let warning = try XCTUnwrap(old.warnings.first { $0.contains("below the noise floor") }, "\(old.warnings)")
        XCTAssertTrue(warning.contains("'conv2'") && warning.contains("weight codes are 0"), warning)
    }

    /// Lookup-table activations keep 8-bit outputs below 8 activation bits (`lookupTableOutputBits`): a
    /// table costs the same bytes at any output width, and ops_zoo's five tables re-rounded to 4 bits
    /// (thresholded ReLU 12 dB, swish 14 dB) were most of its W4A4 loss. Measured with these 128
    /// calibration samples: 90.33 % top-1 agreement, 86.67 % without the rule.
    func testLookupTableOutputsStayAt8BitsBelow8() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let with = try Self.convert("ops_zoo", bits: 4, in: folder)
        let without = try Self.convert("ops_zoo", bits: 4, in: folder) { $0.recipe.lookupTableOutputBits = nil }
        let tables = with.layers.filter { $0.op == "lookupTable" }
        XCTAssertEqual(tables.map(\.name), ["tanh", "sigmoid", "swish", "hard_sigmoid", "relu_thresh"])
        XCTAssertEqual(tables.map(\.activationBits), [8, 8, 8, 8, 8])
        XCTAssertEqual(without.layers.filter { $0.op == "lookupTable" }.map(\.activationBits), [4, 4, 4, 4, 4])
        let agreement = try XCTUnwrap(with.evaluation?.top1Agreement), old = try XCTUnwrap(without.evaluation?.top1Agreement)
        XCTAssertGreaterThanOrEqual(agreement, old + 0.02, "ops_zoo W4A4 with 8-bit table outputs vs 4-bit")
        let record = try XCTUnwrap(with.recipe.rewrites?.first { $0.rewrite == "lookup-table-output-bits" })
        XCTAssertTrue(record.applied, record.reason)
        XCTAssertEqual(record.layer, "tanh,sigmoid,swish,hard_sigmoid,relu_thresh")
    }

    /// The rule is measured: where the probe's error is 10 % lower with the tables at the requested
    /// width, it is dropped. concat_pool_leaky at W6A6: its LeakyReLU outputs are re-rounded by the
    /// concatenation that reads them, and 8-bit tables measured worse (held-out output SQNR 32.2 dB at
    /// 6 bits against 29.0 dB at 8, all 512 samples).
    func testLookupTableOutputRuleIsDeclinedWhereItMeasuresWorse() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let report = try Self.convert("concat_pool_leaky", bits: 6, in: folder)
        let record = try XCTUnwrap(report.recipe.rewrites?.first { $0.rewrite == "lookup-table-output-bits" })
        XCTAssertFalse(record.applied, record.reason)
        XCTAssertEqual(report.layers.filter { $0.op == "lookupTable" }.map(\.activationBits), [6, 6, 8],
                       "conv3_leaky feeds the last layer (--first-last-bits)")
    }

    /// Misses measured and not yet fixed (docs/quantization.md, "The zoo table"): none. Any miss fails
    /// the test; a known one would have to stay within 5 pt of its bar and warn when > 5 pt below its
    /// floor. (ops_zoo W4A4 was one, 85.67 % against 87.65 %, until lookup-table outputs kept 8 bits;
    /// sepconv_wide W4A4 was the last, 92.67 % against 93.00 % (91.00 against 91.10 at the scalar level),
    /// until the measured min-max clip choice: now 94.67 % against 93.00 % at VNNI and at the scalar level.)
    static let knownMisses: Set<String> = []

    /// Noise-floor draws behind each bar: the floor of a near-tie model spreads over several points
    /// between draws (mini_xception W8A8: 93.0 ... 97.3 %), so 4 draws leave its mean ~1 pt uncertain,
    /// twice the 0.5 pt margin, and the bar moved with the ISA level's float rounding (mini_xception
    /// W8A8 failed at QCONVERT_ISA=scalar only); 16 halve that. The bars are taken, as a user converts,
    /// with every calibration sample (256 per zoo model, 512 per fixture), not the 128 of the other tests.
    static let barDraws = 16

    /// Every fixture and zoo model at W8A8 and W4A4 against bars from its own noise floor:
    /// W8A8 >= min(99.5 %, floor) - 0.5 pt, W4A4 >= min(95 %, floor) - 2 pt (issue 10).
    func testEveryModelMeetsItsNoiseFloorBars() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let models = Fixtures.modelNames + Self.zoo.map { "zoo/" + $0 }
        var failures: [String] = []
        for model in models {
            for (bits, cap, margin) in [(8, 0.995, 0.005), (4, 0.95, 0.02)] {
                let report = try Self.convert(model, bits: bits, in: folder, noiseDraws: Self.barDraws) { $0.calibrationSamples = nil }
                let agreement = try XCTUnwrap(report.evaluation?.top1Agreement, model)
                let floor = try XCTUnwrap(report.evaluation?.noiseFloor?.top1AgreementMean, model)
                let bar = min(cap, floor) - margin
                let key = "\(model) W\(bits)A\(bits)"
                let line = String(format: "%@: %.4f, bar %.4f (floor %.4f)", key, agreement, bar, floor)
                print("bars: " + line)
                if agreement < bar && !(Self.knownMisses.contains(key) && agreement >= bar - 0.05) {
                    failures.append(line)
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
