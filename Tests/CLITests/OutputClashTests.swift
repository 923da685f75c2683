import Foundation
import QBin
import QCTestSupport
import XCTest

/// No output may land on an input (issue 13, item 3): files are compared by device and inode after
/// following links, every output against every input. A clash is a usage error (exit 64) that names
/// both paths, and every input is byte-identical afterwards.
final class OutputClashTests: XCTestCase {
    var folder: URL!
    var model = "", calib = "", data = "", qbin = ""
    let fixture = "resnet_bn"

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder(self)
        // Copies, so that a failing check can only destroy files of this test.
        for (name, target) in [("model.h5", "M.h5"), ("calib.h5", "calib.h5"), ("data.h5", "X.h5")] {
            try FileManager.default.copyItem(atPath: Fixtures.path(fixture, name), toPath: path(target))
        }
        model = path("M.h5"); calib = path("calib.h5"); data = path("X.h5")
        qbin = path("existing.qbin")
        try Data(QBinWriter.encode(QBinTestModel.make())).write(to: URL(fileURLWithPath: qbin))
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Runs `arguments`, expects exit 64 naming `output` and `input`, and every file of the folder unchanged.
    private func assertClash(_ arguments: [String], output: String, input: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).map(path)
        let before = HostileFiles.snapshot(names)
        try assertExit(64, arguments, mentions: [output, input], file: file, line: line)
        XCTAssertEqual(HostileFiles.snapshot(names), before, "an input was touched", file: file, line: line)
        let after = try FileManager.default.contentsOfDirectory(atPath: folder.path).map(path)
        XCTAssertEqual(Set(after), Set(names), "files were added or removed", file: file, line: line)
    }

    func testConvertOutputOnEachInput() throws {
        try assertClash(["convert", model, calib, "--calibration", calib], output: calib, input: calib)
        try assertClash(["convert", model, model], output: model, input: model)
        try assertClash(["convert", model, data, "--calibration", calib, "--eval", data], output: data, input: data)
    }

    func testConvertReportsOnEachInput() throws {
        let out = path("new.qbin")
        try assertClash(["convert", model, out, "--report", model], output: model, input: model)
        try assertClash(["convert", model, out, "--calibration", calib, "--report-html", calib], output: calib, input: calib)
        try assertClash(["convert", model, out, "--calibration", calib, "--eval", data, "--report", data], output: data, input: data)
        try assertClash(["convert", model, out, "--report-html", path("new.report.json")],
                        output: path("new.report.json"), input: path("new.report.json"))
        try assertClash(["convert", model, out, "--report", out], output: out, input: out)
    }

    func testRunOutputOnItsInputs() throws {
        try assertClash(["run", model, "--input", data, "--output", data], output: data, input: data)
        try assertClash(["run", model, "--input", data, "--output", model], output: model, input: model)
        try assertClash(["run", qbin, "--input", data, "--output", qbin], output: qbin, input: qbin)
    }

    func testValidateReportsOnItsInputs() throws {
        try assertClash(["validate", qbin, "--reference", data, "--report", data], output: data, input: data)
        try assertClash(["validate", qbin, "--reference", data, "--report-html", qbin], output: qbin, input: qbin)
    }

    /// A symlink or a hard link to an input, and a path spelled differently, are the same file.
    func testLinksAndOtherSpellingsAreTheSameFile() throws {
        let link = path("link.qbin")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: model)
        try assertClash(["convert", model, link], output: link, input: model)
        let hard = path("hard.h5")
        try FileManager.default.linkItem(atPath: calib, toPath: hard)
        try assertClash(["convert", model, path("o.qbin"), "--calibration", calib, "--report", hard], output: hard, input: calib)
        let dotted = folder.appendingPathComponent(".").appendingPathComponent("X.h5").path
        try assertClash(["run", model, "--input", data, "--output", dotted], output: dotted, input: data)
        let linkedReport = path("r.json")
        try FileManager.default.createSymbolicLink(atPath: linkedReport, withDestinationPath: data)
        try assertClash(["validate", qbin, "--reference", data, "--report", linkedReport], output: linkedReport, input: data)
    }
}
