import Foundation
import HDF5
@testable import QBin
import QCTestSupport
import XCTest

/// Broken and hostile inputs that crashed the process (issue 12): each is now a clean exit 2 with
/// one `error:` line naming the tensor and the first bad index, and nothing written.
final class HostileInputTests: XCTestCase {
    var folder: URL!
    let fixture = "resnet_bn"
    /// A quick data-free conversion (the crashes were in import and quantization, before evaluation).
    let quick = ["--calibration-samples", "4", "--noise-floor-draws", "0", "--quiet"]

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder(self)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Converts `model` and expects exit 2 mentioning `mentions`, with no output and no temporary left.
    private func assertConvertRefused(_ model: String, extra: [String] = [], mentions: [String],
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        let out = path("out.qbin")
        try assertExit(2, ["convert", model, out] + quick + extra, mentions: mentions, file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no .qbin may be written", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.report.json")), "no report may be written", file: file, line: line)
        XCTAssertEqual(try HostileFiles.temporaries(in: folder), [], "temporary files left", file: file, line: line)
    }

    func testNaNWeightNamesTensorAndIndex() throws {
        let (layer, weight) = try HostileFiles.firstWeight(fixture, containing: "kernel")
        let model = path("nan.h5")
        try HostileFiles.model(fixture, to: model, edit: { l, w, values in if l == layer && w == weight { values[5] = .nan } })
        try assertConvertRefused(model, mentions: [model, "'\(layer)'", weight, "element 5", "nan"])
        try assertExit(2, ["inspect", model], mentions: ["element 5"])
    }

    func testInfiniteBiasNamesTensorAndIndex() throws {
        let (layer, weight) = try HostileFiles.firstWeight(fixture, containing: "bias")
        let model = path("inf.h5")
        try HostileFiles.model(fixture, to: model, edit: { l, w, values in if l == layer && w == weight { values[0] = -.infinity } })
        try assertConvertRefused(model, mentions: [model, "'\(layer)'", weight, "element 0", "-inf"])
    }

    func testBatchNormNegativeVarianceNamesTensorAndIndex() throws {
        let (layer, _) = try HostileFiles.firstWeight(fixture, containing: "moving_variance")
        let model = path("negvar.h5")
        try HostileFiles.model(fixture, to: model, edit: { l, w, values in
            if l == layer && w.contains("moving_variance") { values[2] = -0.5 }
        })
        try assertConvertRefused(model, mentions: [model, "'\(layer)'", "moving_variance", "element 2", "-0.5"])
    }

    /// NaN and 1e20 labels trapped in the Float -> Int conversion of the evaluation targets.
    func testNaNAndHugeEvalLabelsNameTheRow() throws {
        var labels = [Float](repeating: 1, count: 8)
        labels[3] = .nan
        let nanEval = path("nan-labels.h5")
        try HostileFiles.evalFile(fixture, to: nanEval, count: 8, labels: labels)
        try assertConvertRefused(Fixtures.path(fixture, "model.h5"), extra: ["--eval", nanEval], mentions: [nanEval, "/labels row 3", "nan"])

        labels[3] = 1
        labels[0] = 1e20
        let hugeEval = path("huge-labels.h5")
        try HostileFiles.evalFile(fixture, to: hugeEval, count: 8, labels: labels)
        try assertConvertRefused(Fixtures.path(fixture, "model.h5"), extra: ["--eval", hugeEval], mentions: [hugeEval, "/labels row 0"])
    }

    /// A `.qbin` whose graph output is a constant: the reader refuses it before anything runs
    /// (the simulator used to crash on a nil unwrap).
    func testQBinWithConstantGraphOutputIsRefusedByTheReader() throws {
        var model = QBinTestModel.make()
        let kernel = try XCTUnwrap(model.tensors.firstIndex { $0.name == "dense/kernel" })
        model.outputs = [kernel]
        XCTAssertThrowsError(try model.validate())
        // Encoded without the writer's validation, as a hostile producer would.
        let (data, offsets) = QBinWriter.encodeData(model)
        let bytes = QBinWriter.assemble([(QBinFormat.Section.metadata.rawValue, QBinWriter.encodeMetadata(model)),
                                         (QBinFormat.Section.tensors.rawValue, QBinWriter.encodeTensors(model, blobOffsets: offsets)),
                                         (QBinFormat.Section.ops.rawValue, QBinWriter.encodeOps(model)),
                                         (QBinFormat.Section.data.rawValue, data)])
        let qbin = path("constant-output.qbin")
        try Data(bytes).write(to: URL(fileURLWithPath: qbin))
        let input = path("data.h5")
        try HDF5File.create(input).root.writeDataset("inputs", shape: [2] + QBinTestModel.inputShape,
                                                     floats: QBinTestModel.inputs(count: 2))
        let out = path("out.h5")
        try assertExit(2, ["run", qbin, "--input", input, "--output", out], mentions: [qbin, "dense/kernel", "constant"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        try assertExit(2, ["inspect", qbin], mentions: ["constant"])
    }

    /// A FIFO blocked `inspect` forever; a link to /dev/zero was read without end.
    func testNonRegularFilesAreRefusedAtOnce() throws {
        let fifo = path("pipe.qbin")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let start = Date()
        try assertExit(2, ["inspect", fifo], mentions: [fifo, "not a regular file"])
        let fifoH5 = path("pipe.h5")
        XCTAssertEqual(mkfifo(fifoH5, 0o600), 0)
        try assertExit(2, ["inspect", fifoH5], mentions: [fifoH5, "not a regular file"])
        let zero = path("zero.qbin")
        try FileManager.default.createSymbolicLink(atPath: zero, withDestinationPath: "/dev/zero")
        try assertExit(2, ["inspect", zero], mentions: [zero, "not a regular file"])
        let data = path("zero.h5")
        try FileManager.default.createSymbolicLink(atPath: data, withDestinationPath: "/dev/zero")
        try assertExit(2, ["run", Fixtures.path(fixture, "model.h5"), "--input", data, "--output", path("o.h5")],
                       mentions: [data, "not a regular file"])
        XCTAssertLessThan(Date().timeIntervalSince(start), 30, "refusals must be immediate")
    }
}
