import Foundation
import HDF5
import QCTestSupport
import XCTest

/// What a first day with qconvert trips over (issue 13, item 4), through the built binary.
final class FirstDayTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws { folder = try Fixtures.temporaryFolder(self) }

    func testVersionAndHelpWithExamples() throws {
        let version = try CLIRunner.run(["--version"])
        XCTAssertEqual(version.status, 0, version.stderr)
        XCTAssertEqual(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
        let help = try CLIRunner.run(["--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.contains("Examples:"), help.stdout)
        XCTAssertTrue(help.stdout.contains("qconvert model.h5 model.qbin --calibration calib.h5"), help.stdout)
        XCTAssertTrue(help.stdout.contains("qconvert validate model.qbin --reference data.h5"), help.stdout)
    }

    /// `convert` is the default subcommand, so a misspelled subcommand used to be read as a model path.
    func testMisspelledSubcommandSaysDidYouMean() throws {
        let model = Fixtures.path("keras2_cnn", "model.h5")
        for (typo, meant) in [("inspct", "inspect"), ("valdiate", "validate"), ("rnu", "run"), ("Convert", "convert")] {
            let result = try CLIRunner.run([typo, model])
            XCTAssertEqual(result.status, 64, "\(typo): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains("did you mean '\(meant)'?"), "\(typo): \(result.stderr)")
        }
        // A word far from every subcommand is still a (missing) model path: exit 2, no guess.
        let missing = try CLIRunner.run(["nosuchmodel.h5", folder.appendingPathComponent("o.qbin").path])
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertFalse(missing.stderr.contains("did you mean"), missing.stderr)
    }

    /// A file that exists is a model, whatever its name looks like.
    func testExistingFileNamedLikeASubcommandIsAModel() throws {
        let copy = folder.appendingPathComponent("inspct")
        try FileManager.default.copyItem(atPath: Fixtures.path("keras2_cnn", "model.h5"), toPath: copy.path)
        // A usage error that only the convert subcommand's own checks give.
        let result = try CLIRunner.run(["inspct", "x.qbin", "--min-agreement", "2"], in: folder)
        let text = result.stderr
        XCTAssertEqual(result.status, 64, text)
        XCTAssertFalse(text.contains("did you mean"), text)
        XCTAssertTrue(text.contains("--min-agreement"), text)
    }

    /// A gate the data cannot measure is a usage error (64) that says why and what to pass, found
    /// before calibration; it used to fail as "measured not measured" with exit 1.
    func testUnmeasurableGateIsAUsageError() throws {
        let model = Fixtures.path("keras2_cnn", "model.h5")
        let out = folder.appendingPathComponent("m.qbin").path
        // The held-out part of calib.h5 has no labels.
        let noLabels = try CLIRunner.run([model, out, "--calibration", Fixtures.path("keras2_cnn", "calib.h5"), "--max-accuracy-drop", "0.01"])
        XCTAssertEqual(noLabels.status, 64, noLabels.stderr)
        XCTAssertTrue(noLabels.stderr.contains("--max-accuracy-drop cannot be measured: it needs labels"), noLabels.stderr)
        XCTAssertTrue(noLabels.stderr.contains("pass --eval DATA.h5 holding /inputs and /labels"), noLabels.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing is written")

        // One calibration sample: none is held out, so no gate but max-lsb-error can be measured.
        let one = try oneSampleCalibration()
        let noSamples = try CLIRunner.run([model, out, "--calibration", one, "--min-agreement", "0.9"])
        XCTAssertEqual(noSamples.status, 64, noSamples.stderr)
        XCTAssertTrue(noSamples.stderr.contains("--min-agreement cannot be measured: there are no evaluation samples"), noSamples.stderr)

        // validate against a reference file without /labels.
        let converted = try CLIRunner.run([model, out, "--calibration", Fixtures.path("keras2_cnn", "calib.h5"),
                                           "--calibration-samples", "64", "--noise-floor-draws", "0", "--quiet"])
        XCTAssertEqual(converted.status, 0, converted.stderr)
        let reference = folder.appendingPathComponent("ref.h5").path
        let data = try FixtureData("keras2_cnn")
        do {  // closed before the CLI opens it
            let file = try HDF5File.create(reference)
            try file.root.writeDataset("inputs", shape: data.inputShape, floats: data.inputs)
            try file.root.writeDataset("outputs", shape: data.outputShape, floats: data.outputs)
            try file.flush()
        }
        let validate = try CLIRunner.run(["validate", out, "--reference", reference, "--max-accuracy-drop", "0.01"])
        XCTAssertEqual(validate.status, 64, validate.stderr)
        XCTAssertTrue(validate.stderr.contains("--max-accuracy-drop cannot be measured"), validate.stderr)
        XCTAssertTrue(validate.stderr.contains("add /labels to the reference file"), validate.stderr)
    }

    /// One calibration sample converts, with a warning that says so (and that nothing is held out).
    func testOneCalibrationSampleWarns() throws {
        let out = folder.appendingPathComponent("m.qbin").path
        let result = try CLIRunner.run([Fixtures.path("keras2_cnn", "model.h5"), out, "--calibration", try oneSampleCalibration(),
                                        "--noise-floor-draws", "0"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("warning: calibration uses only 1 sample of"), result.stderr)
        XCTAssertTrue(result.stderr.contains("none is held out and fidelity is not measured"), result.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("m.report.json"))) as? [String: Any]
        let warnings = report?["warnings"] as? [String] ?? []
        XCTAssertTrue(warnings.contains { $0.hasPrefix("calibration uses only 1 sample") }, "\(warnings)")
    }

    /// `--layer-bits` on a BatchNorm folded into a conv names the conv; on an activation fused into it, too.
    func testLayerBitsOnAFoldedLayerNamesItsHost() throws {
        let model = Fixtures.path("resnet_bn", "model.h5")
        let out = folder.appendingPathComponent("m.qbin").path
        let bn = try CLIRunner.run([model, out, "--layer-bits", "b1_a_bn=4"])
        XCTAssertEqual(bn.status, 64, bn.stderr)
        XCTAssertTrue(bn.stderr.contains("'b1_a_bn', a BatchNormalization folded into 'b1_a_conv'"), bn.stderr)
        XCTAssertTrue(bn.stderr.contains("--layer-bits b1_a_conv=N"), bn.stderr)
        let relu = try CLIRunner.run([model, out, "--layer-bits", "stem_relu=4"])
        XCTAssertEqual(relu.status, 64, relu.stderr)
        XCTAssertTrue(relu.stderr.contains("an activation fused into 'stem_conv'"), relu.stderr)
        let unknown = try CLIRunner.run([model, out, "--layer-bits", "nope=4"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains("not a layer of") && unknown.stderr.contains("classifier"), unknown.stderr)
    }

    /// `validate` has no --dataset option: its error names the file layout it reads instead.
    func testValidateMissingOutputsNamesTheLayout() throws {
        let model = Fixtures.path("keras2_cnn", "model.h5")
        let out = folder.appendingPathComponent("m.qbin").path
        let converted = try CLIRunner.run([model, out, "--calibration", Fixtures.path("keras2_cnn", "calib.h5"),
                                           "--calibration-samples", "64", "--noise-floor-draws", "0", "--quiet"])
        XCTAssertEqual(converted.status, 0, converted.stderr)
        let result = try CLIRunner.run(["validate", out, "--reference", Fixtures.path("keras2_cnn", "calib.h5")])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("no dataset 'outputs'"), result.stderr)
        XCTAssertTrue(result.stderr.contains("reads /inputs, /outputs"), result.stderr)
        XCTAssertFalse(result.stderr.contains("--dataset"), result.stderr)
    }

    /// One float size: inspect of the .h5 and of the .qbin, convert and validate all report 4 bytes per
    /// parameter of the Keras file (BatchNorm statistics included), counted here from the file itself.
    func testFloatSizeIsTheSameEverywhere() throws {
        let name = "resnet_bn"
        let model = Fixtures.path(name, "model.h5")
        let keras = try HDF5File.open(model)
        let expected = 4 * (try elementCount(keras.root.group("model_weights")))
        XCTAssertGreaterThan(expected, 0)

        let inspect = try CLIRunner.run(["inspect", model, "--json"])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        let inspected = try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(inspected?["floatBytes"] as? Int, expected)

        let out = folder.appendingPathComponent("m.qbin").path
        let convert = try CLIRunner.run([model, out, "--calibration", Fixtures.path(name, "calib.h5"), "--calibration-samples", "64",
                                         "--eval", Fixtures.path(name, "data.h5"), "--noise-floor-draws", "0", "--quiet"])
        XCTAssertEqual(convert.status, 0, convert.stderr)
        XCTAssertEqual(try floatBytes(report: folder.appendingPathComponent("m.report.json")), expected)

        let validateReport = folder.appendingPathComponent("v.json")
        let validate = try CLIRunner.run(["validate", out, "--reference", Fixtures.path(name, "data.h5"), "--report", validateReport.path])
        XCTAssertEqual(validate.status, 0, validate.stderr)
        XCTAssertEqual(try floatBytes(report: validateReport), expected)

        let inspectQBin = try CLIRunner.run(["inspect", out, "--json"])
        XCTAssertEqual(inspectQBin.status, 0, inspectQBin.stderr)
        let totals = (try JSONSerialization.jsonObject(with: Data(inspectQBin.stdout.utf8)) as? [String: Any])?["totals"] as? [String: Any]
        XCTAssertEqual(totals?["floatBytes"] as? Int, expected)
    }

    /// At 4 bits, concat_pool_leaky's 8-bit first and last layers take most of the packed weight bytes:
    /// the summary says so and names --first-last-bits; with --first-last-bits 4 it does not.
    func testLowBitsSummaryExplainsWideFirstAndLastLayers() throws {
        let name = "concat_pool_leaky"
        let base = [Fixtures.path(name, "model.h5"), folder.appendingPathComponent("m.qbin").path, "--bits", "4",
                    "--calibration", Fixtures.path(name, "calib.h5"), "--calibration-samples", "64", "--weight-rounding", "nearest",
                    "--noise-floor-draws", "0"]
        let edge = try CLIRunner.run(base)
        XCTAssertEqual(edge.status, 0, edge.stderr)
        XCTAssertTrue(edge.stderr.contains("size note: the first and last weighted layers"), edge.stderr)
        XCTAssertTrue(edge.stderr.contains("--first-last-bits 4 packs them too"), edge.stderr)
        let same = try CLIRunner.run(base + ["--first-last-bits", "4"])
        XCTAssertEqual(same.status, 0, same.stderr)
        XCTAssertFalse(same.stderr.contains("size note"), same.stderr)
    }

    /// qconvert-bench parses with swift-argument-parser: --help per subcommand, usage errors exit 64,
    /// a failed measurement exits 2.
    func testBenchHasHelpAndUsageErrors() throws {
        let help = try bench(["--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        for name in ["gemm", "images", "calibrate", "qbin"] { XCTAssertTrue(help.stdout.contains(name), help.stdout) }
        let qbinHelp = try bench(["qbin", "--help"])
        XCTAssertEqual(qbinHelp.status, 0, qbinHelp.stderr)
        for option in ["--fixtures", "--bits", "--json", "--reps", "--only", "--no-gemm", "--work", "--profile", "--samples-per-pass"] {
            XCTAssertTrue(qbinHelp.stdout.contains(option), "\(option) in \(qbinHelp.stdout)")
        }
        let badBits = try bench(["qbin", "--bits", "9"])
        XCTAssertEqual(badBits.status, 64, badBits.stderr)
        XCTAssertTrue(badBits.stderr.contains("--bits needs an integer in 2...8"), badBits.stderr)
        let unknown = try bench(["images", "--frobnicate"])
        XCTAssertEqual(unknown.status, 64, unknown.stderr)
        let noFixtures = try bench(["images", "--fixtures", folder.path, "--reps", "1"])
        XCTAssertEqual(noFixtures.status, 2, noFixtures.stderr)
        XCTAssertTrue(noFixtures.stderr.contains("no fixture folders"), noFixtures.stderr)
    }

    // MARK: helpers

    private func bench(_ arguments: [String]) throws -> CLIRunner.Result {
        try CLIRunner.run(arguments, executable: CLIRunner.benchBinary)
    }

    /// A calibration file holding keras2_cnn's first test image only.
    private func oneSampleCalibration() throws -> String {
        let data = try FixtureData("keras2_cnn")
        let path = folder.appendingPathComponent("one.h5").path
        let sample = data.inputShape.dropFirst().reduce(1, *)
        let file = try HDF5File.create(path)
        try file.root.writeDataset("inputs", shape: [1] + data.inputShape.dropFirst(), floats: Array(data.inputs.prefix(sample)))
        try file.flush()
        return path
    }

    private func elementCount(_ group: HDF5Group) throws -> Int {
        var total = 0
        for child in try group.childNames() {
            if let sub = try? group.group(child) {
                total += try elementCount(sub)
            } else {
                total += try group.dataset(child).shape.reduce(1, *)
            }
        }
        return total
    }

    private func floatBytes(report: URL) throws -> Int? {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any]
        return (json?["size"] as? [String: Any])?["floatBytes"] as? Int
    }
}
