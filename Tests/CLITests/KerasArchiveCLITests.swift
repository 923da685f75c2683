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

    /// A `.weights.h5` whose architecture JSON lies elsewhere: without `--config` exit 2 naming the
    /// option; with it `inspect`, `run` and convert work (convert gives the `.h5`'s size), and an output
    /// on the config file is a usage error that leaves it intact.
    func testWeightsFileWithConfigOption() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let weightsFolder = folder.appendingPathComponent("weights"), configFolder = folder.appendingPathComponent("arch")
        for f in [weightsFolder, configFolder] { try FileManager.default.createDirectory(at: f, withIntermediateDirectories: true) }
        let weights = weightsFolder.appendingPathComponent("model.weights.h5").path
        let config = configFolder.appendingPathComponent("arch.json").path
        try FileManager.default.copyItem(atPath: Fixtures.path("resnet_bn", "model.weights.h5"), toPath: weights)
        try FileManager.default.copyItem(atPath: Fixtures.path("resnet_bn", "model.json"), toPath: config)
        let calibration = ["--calibration", Fixtures.path("resnet_bn", "calib.h5"), "--calibration-samples", "64", "--bits", "8", "--quiet"]

        let missing = try CLIRunner.run(["inspect", weights])
        XCTAssertEqual(missing.status, 2, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("--config"), missing.stderr)

        let inspect = try CLIRunner.run(["inspect", weights, "--config", config])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("19,994 parameters"), inspect.stdout)
        let run = try CLIRunner.run(["run", weights, "--config", config, "--input", Fixtures.path("resnet_bn", "data.h5"),
                                     "--output", folder.appendingPathComponent("out.h5").path])
        XCTAssertEqual(run.status, 0, run.stderr)

        var sizes: [Int] = []
        for (model, extra) in [(weights, ["--config", config]), (Fixtures.path("resnet_bn", "model.h5"), [])] {
            let out = folder.appendingPathComponent("\(sizes.count).qbin").path
            let result = try CLIRunner.run([model, out] + extra + calibration)
            XCTAssertEqual(result.status, 0, result.stderr)
            sizes.append(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: out)[.size] as? Int))
        }
        XCTAssertEqual(Set(sizes).count, 1, "the .weights.h5 + --config and the .h5 give .qbin files of one size: \(sizes)")

        let before = try Data(contentsOf: URL(fileURLWithPath: config))
        let clash = try CLIRunner.run([weights, config, "--config", config] + calibration)
        XCTAssertEqual(clash.status, 64, clash.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: config)), before)
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
