import FixedPoint
import Foundation
import HDF5
import QBin
import QCTestSupport
import Simulator
import XCTest

/// `run` and `inspect` on a `.qbin` through the built binary, checked against the simulator's own run.
final class QBinRunInspectTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder(self)
    }

    private func outputPath(_ name: String = "out.h5") -> String { folder.appendingPathComponent(name).path }

    /// What `IntegerSimulator.run(input:batch:)` gives for `inputs`: the values `run` must write.
    private func simulated(_ model: QModel, _ inputs: [Float], samples: Int, rounding: RoundingProfile) throws -> [Float] {
        let simulator = try IntegerSimulator(model: model, rounding: rounding)
        return inputs.withUnsafeBufferPointer { simulator.run(input: $0, batch: samples)[0] }
    }

    private func assertSucceeded(_ result: CLIRunner.Result, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 0, "stderr: \(result.stderr)", file: file, line: line)
    }

    // MARK: - inspect

    func testInspectTable() throws {
        let paths = try QBinTestModel.write(QBinTestModel.make(), samples: 1, in: folder)
        let result = try CLIRunner.run(["inspect", paths.model])
        assertSucceeded(result)
        for expected in ["conv2D", "globalAveragePool2D", "dense", "s4 per-channel", "s4 per-tensor", "minmax", "total: 3 ops",
                         "producer: qconvert cli test", "option.weight_bits = 4"] {
            XCTAssertTrue(result.stdout.contains(expected), "'\(expected)' missing from:\n\(result.stdout)")
        }
    }

    func testInspectJSON() throws {
        let paths = try QBinTestModel.write(QBinTestModel.make(), samples: 1, in: folder)
        let result = try CLIRunner.run(["inspect", paths.model, "--json"])
        assertSucceeded(result)
        let document = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(document["schemaVersion"] as? Int, 1)
        XCTAssertEqual(document["format"] as? String, "qbin")
        XCTAssertEqual(document["producer"] as? String, "qconvert cli test")
        XCTAssertEqual(document["options"] as? [String: String], ["weight_bits": "4"])
        XCTAssertEqual(document["inputShape"] as? [Int], QBinTestModel.inputShape)

        let ops = try XCTUnwrap(document["ops"] as? [[String: Any]])
        XCTAssertEqual(ops.map { $0["kind"] as? String }, ["conv2D", "globalAveragePool2D", "dense"])
        XCTAssertEqual(ops[1]["inputShapes"] as? [[Int]], [[8, 8, 4]])
        XCTAssertNil(ops[1]["weights"])
        let conv = try XCTUnwrap(ops[0]["weights"] as? [String: Any])
        XCTAssertEqual(conv["bits"] as? Int, 4)
        XCTAssertEqual(conv["type"] as? String, "s4")
        XCTAssertEqual(conv["granularity"] as? String, "per-channel")
        XCTAssertEqual(conv["packedBytes"] as? Int, QBinTestModel.convPackedBytes)
        let dense = try XCTUnwrap(ops[2]["weights"] as? [String: Any])
        XCTAssertEqual(dense["granularity"] as? String, "per-tensor")
        XCTAssertEqual(dense["packedBytes"] as? Int, QBinTestModel.densePackedBytes)
        let convOut = try XCTUnwrap(ops[0]["output"] as? [String: Any])
        XCTAssertEqual(convOut["type"] as? String, "u8")
        XCTAssertEqual(convOut["clipping"] as? String, "minmax")
        XCTAssertEqual(try XCTUnwrap(convOut["scale"] as? Double), 0.03, accuracy: 1e-7)
        let logits = try XCTUnwrap(ops[2]["output"] as? [String: Any])
        XCTAssertEqual(logits["zeroPoint"] as? Int, 3)
        XCTAssertEqual(logits["clipping"] as? String, "kl")

        let totals = try XCTUnwrap(document["totals"] as? [String: Any])
        let fileBytes = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: paths.model)[.size] as? Int)
        XCTAssertEqual(totals["fileBytes"] as? Int, fileBytes)
        XCTAssertEqual(totals["packedWeightBytes"] as? Int, QBinTestModel.convPackedBytes + QBinTestModel.densePackedBytes)
        // 72 + 20 weights at 4 bits pack without padding; params also count the 4 biases.
        XCTAssertEqual(try XCTUnwrap(totals["idealWeightBytes"] as? Double), 46, accuracy: 1e-9)
        XCTAssertEqual(totals["params"] as? Int, 72 + 4 + 20)
        XCTAssertEqual(totals["floatBytes"] as? Int, 96 * 4)
        XCTAssertEqual(try XCTUnwrap(totals["compressionRatio"] as? Double), Double(96 * 4) / Double(fileBytes), accuracy: 1e-9)
        let metadata = try XCTUnwrap(document["metadata"] as? [[String: String]])
        XCTAssertEqual(metadata.first?["key"], "producer")
        XCTAssertEqual(metadata.count, 6)  // producer, rounding, source, option, 2 calibration
    }

    func testInspectRecognisesMagicWithoutExtension() throws {
        let paths = try QBinTestModel.write(QBinTestModel.make(), named: "model.bin", samples: 1, in: folder)
        let result = try CLIRunner.run(["inspect", paths.model])
        assertSucceeded(result)
        XCTAssertTrue(result.stdout.contains("s4 per-channel"), result.stdout)
    }

    // MARK: - run

    func testRunWritesSimulatorOutputs() throws {
        let samples = 11
        let model = QBinTestModel.make()
        let paths = try QBinTestModel.write(model, samples: samples, in: folder)
        let result = try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", outputPath(), "--batch-size", "4"])
        assertSucceeded(result)
        let file = try HDF5File.open(outputPath())
        let outputs = try file.root.dataset("outputs")
        XCTAssertEqual(outputs.shape, [samples, QBinTestModel.outputWidth])
        XCTAssertEqual(try outputs.readFloats(), try simulated(model, paths.inputs, samples: samples, rounding: .gemmlowp))
        XCTAssertFalse(file.root.contains("outputs_int"), "--raw was not given")
    }

    /// The same inputs give the same output file, byte for byte: no object header records when a dataset
    /// was written (HDF5 keeps creation and modification times, in seconds, unless told not to).
    func testRunOutputFileIsByteIdenticalAcrossRuns() throws {
        let model = QBinTestModel.make()
        let paths = try QBinTestModel.write(model, samples: 5, in: folder)
        var files: [Data] = []
        for name in ["first.h5", "second.h5"] {
            if !files.isEmpty { Thread.sleep(forTimeInterval: 1.1) }  // a later second on the clock
            assertSucceeded(try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", outputPath(name), "--raw"]))
            files.append(try Data(contentsOf: URL(fileURLWithPath: outputPath(name))))
        }
        XCTAssertEqual(files[0], files[1], "two runs on the same inputs wrote different bytes")
    }

    func testRunRawWritesIntegersWithScaleAndZeroPoint() throws {
        let samples = 6
        let model = QBinTestModel.make()
        let paths = try QBinTestModel.write(model, samples: samples, in: folder)
        let result = try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", outputPath(), "--raw"])
        assertSucceeded(result)
        let file = try HDF5File.open(outputPath())
        let raw = try file.root.dataset("outputs_int")
        XCTAssertEqual(raw.scalarType, .int32)
        XCTAssertEqual(raw.shape, [samples, QBinTestModel.outputWidth])
        let logits = model.tensors[model.outputs[0]]
        XCTAssertEqual(try raw.doubleArrayAttribute("scale"), [Double(logits.scales[0])])
        XCTAssertEqual(try raw.doubleArrayAttribute("zero_point"), [Double(logits.zeroPoints[0])])
        XCTAssertEqual(try raw.stringAttribute("type"), "s8")
        let integers = try raw.readInt32s()
        XCTAssertTrue(integers.allSatisfy { (-128...127).contains($0) })
        XCTAssertGreaterThan(Set(integers).count, 8, "outputs should vary across samples and classes: \(integers)")
        let dequantized = integers.map { logits.scales[0] * Float($0 - logits.zeroPoints[0]) }
        XCTAssertEqual(try file.root.dataset("outputs").readFloats(), dequantized)
    }

    func testRunSingleRounding() throws {
        let samples = 5
        let model = QBinTestModel.make()
        let paths = try QBinTestModel.write(model, samples: samples, in: folder)
        let result = try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", outputPath(), "--rounding", "single"])
        assertSucceeded(result)
        let outputs = try HDF5File.open(outputPath()).root.dataset("outputs").readFloats()
        XCTAssertEqual(outputs, try simulated(model, paths.inputs, samples: samples, rounding: .single))
    }

    func testRunAppliesSoftmaxFromMetadata() throws {
        let samples = 4
        let model = QBinTestModel.make(outputActivation: "softmax")
        let paths = try QBinTestModel.write(model, samples: samples, in: folder)
        let result = try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", outputPath()])
        assertSucceeded(result)
        let outputs = try HDF5File.open(outputPath()).root.dataset("outputs").readFloats()
        let logits = try simulated(model, paths.inputs, samples: samples, rounding: .gemmlowp)
        let width = QBinTestModel.outputWidth
        for row in 0..<samples {
            let x = logits[row * width..<(row + 1) * width].map(Double.init)
            let exps = x.map { Foundation.exp($0 - x.max()!) }
            let sum = exps.reduce(0, +)
            for (k, e) in exps.enumerated() {
                // Float32 softmax of values within a few units: 1e-6 covers its rounding.
                XCTAssertEqual(Double(outputs[row * width + k]), e / sum, accuracy: 1e-6, "sample \(row), class \(k)")
            }
        }
    }

    // MARK: - errors

    func testBogusRoundingIsUsageError() throws {
        let paths = try QBinTestModel.write(QBinTestModel.make(), samples: 1, in: folder)
        let result = try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", outputPath(), "--rounding", "bogus"])
        XCTAssertEqual(result.status, 64, result.stderr)
        XCTAssertTrue(result.stderr.contains("gemmlowp") && result.stderr.contains("single"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: outputPath()))
    }

    func testQBinOptionsOnKerasModelAreUsageErrors() throws {
        let model = Fixtures.path("resnet_bn", "model.h5"), data = Fixtures.path("resnet_bn", "data.h5")
        for option in [["--raw"], ["--rounding", "single"]] {
            let result = try CLIRunner.run(["run", model, "--input", data, "--output", outputPath()] + option)
            XCTAssertEqual(result.status, 64, "\(option): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(option[0]) && result.stderr.contains(".qbin"), result.stderr)
        }
    }

    func testUnknownOutputActivationIsBadInput() throws {
        let paths = try QBinTestModel.write(QBinTestModel.make(outputActivation: "sigmoid"), samples: 2, in: folder)
        let result = try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", outputPath()])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("error: \(paths.model)"), result.stderr)
        XCTAssertTrue(result.stderr.contains("output.activation") && result.stderr.contains("sigmoid"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: outputPath()))
    }

    func testCorruptedQBinIsBadInputNamingFileAndChecksum() throws {
        let paths = try QBinTestModel.write(QBinTestModel.make(), samples: 2, in: folder)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: paths.model)))
        bytes[bytes.count - 3] ^= 0x10  // inside the DATA section: only its CRC can notice
        try Data(bytes).write(to: URL(fileURLWithPath: paths.model))
        for arguments in [["inspect", paths.model], ["run", paths.model, "--input", paths.data, "--output", outputPath()]] {
            let result = try CLIRunner.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments[0]): \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.hasPrefix("error: \(paths.model)"), result.stderr)
            XCTAssertTrue(result.stderr.contains("checksum"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: outputPath()))
    }
}
