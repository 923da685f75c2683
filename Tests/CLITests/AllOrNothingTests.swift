import Foundation
import HDF5
import QBin
import QCTestSupport
import QConvertKit
import XCTest

/// One command's outputs are committed together (issue 12): killed at random moments, stopped by a
/// full disk, the destination holds the previous consistent set or the new one, never a mix; no
/// temporary file survives SIGINT or SIGTERM, and the next run removes a SIGKILL's leftovers.
final class AllOrNothingTests: XCTestCase {
    var folder: URL!
    let fixture = "resnet_bn"

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder(self)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    private func convertArguments(seed: Int, out: String) -> [String] {
        ["convert", Fixtures.path(fixture, "model.h5"), out, "--calibration-samples", "8", "--noise-floor-draws", "0",
         "--seed", "\(seed)", "--report-html", String(out.dropLast(5)) + ".html", "--quiet"]
    }

    /// The report's `model.quantizedSHA256` and the `.qbin`'s hash; both nil when neither exists.
    private func consistentSet(_ qbin: String, file: StaticString = #filePath, line: UInt = #line) throws -> String? {
        let report = path("out.report.json")
        let haveModel = FileManager.default.fileExists(atPath: qbin)
        XCTAssertEqual(haveModel, FileManager.default.fileExists(atPath: report), "model and report come together", file: file, line: line)
        guard haveModel else { return nil }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
        let recorded = (json?["model"] as? [String: Any])?["quantizedSHA256"] as? String
        let actual = try SHA256.hex(fileAt: qbin)
        XCTAssertEqual(recorded, actual, "the report describes another .qbin (a mixed set)", file: file, line: line)
        let html = try String(contentsOfFile: path("out.html"), encoding: .utf8)
        let htmlHash = html.range(of: "sha256 ").map { String(html[$0.upperBound...].prefix(64)) }
        XCTAssertEqual(htmlHash, actual, "the HTML report describes another .qbin", file: file, line: line)
        return actual
    }

    /// Starts `arguments`, sends `signal` after `delay` seconds (if still running), waits.
    private func interrupted(_ arguments: [String], signal: Int32, after delay: Double) throws -> Int32 {
        let process = Process()
        process.executableURL = CLIRunner.binary
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: delay)
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func testConvertKilledAtRandomMomentsLeavesAConsistentSet() throws {
        let out = path("out.qbin")
        let first = try CLIRunner.run(convertArguments(seed: 1, out: out))
        XCTAssertEqual(first.status, 0, first.stderr)
        let start = Date()
        _ = try CLIRunner.run(convertArguments(seed: 2, out: path("timing.qbin")))
        let duration = Date().timeIntervalSince(start)
        for name in ["timing.qbin", "timing.report.json"] { try? FileManager.default.removeItem(atPath: path(name)) }
        XCTAssertNotNil(try consistentSet(out))

        var random = SplitMix64(seed: 12)
        let signals = [SIGINT, SIGTERM, SIGKILL, SIGINT, SIGTERM, SIGKILL]
        var hashes = Set<String>()
        for (trial, sig) in signals.enumerated() {
            let delay = duration * 1.2 * Double(random.next() % 1000) / 1000
            let status = try interrupted(convertArguments(seed: 3 + trial, out: out), signal: sig, after: delay)
            print("trial \(trial) signal \(sig) delay \(delay) of \(duration) s: status \(status)")
            if let hash = try consistentSet(out) { hashes.insert(hash) }
            if sig != SIGKILL {
                XCTAssertEqual(try HostileFiles.temporaries(in: folder), [], "trial \(trial): a temporary survived signal \(sig) at \(delay) s")
            }
        }
        // The next run removes whatever a SIGKILL left.
        let last = try CLIRunner.run(convertArguments(seed: 99, out: out))
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertNotNil(try consistentSet(out))
        XCTAssertEqual(try HostileFiles.temporaries(in: folder), [], "stale temporaries of killed runs remain")
    }

    func testRunKilledAtRandomMomentsLeavesTheOldOrTheNewFile() throws {
        let written = try QBinTestModel.write(QBinTestModel.make(), samples: 4000, in: folder)
        let out = path("out.h5")
        let arguments = ["run", written.model, "--input", written.data, "--output", out, "--batch-size", "16"]
        let start = Date()
        let first = try CLIRunner.run(arguments)
        XCTAssertEqual(first.status, 0, first.stderr)
        let duration = Date().timeIntervalSince(start)
        let expected = try HDF5File.open(out).root.dataset("outputs").readFloats()
        var random = SplitMix64(seed: 5)
        for (trial, sig) in [SIGINT, SIGTERM, SIGKILL, SIGINT, SIGTERM, SIGKILL].enumerated() {
            let delay = duration * Double(random.next() % 1000) / 1000
            _ = try interrupted(arguments, signal: sig, after: delay)
            XCTAssertEqual(try HDF5File.open(out).root.dataset("outputs").readFloats(), expected, "trial \(trial)")
            if sig != SIGKILL {
                XCTAssertEqual(try HostileFiles.temporaries(in: folder), [], "trial \(trial): a temporary survived signal \(sig)")
            }
        }
        XCTAssertEqual(try CLIRunner.run(arguments).status, 0)
        XCTAssertEqual(try HostileFiles.temporaries(in: folder), [], "stale temporaries of killed runs remain")
    }

    /// A file-size limit (`ulimit -f`) stands in for a full disk: the write fails, exit 2, the previous
    /// output untouched and no temporary left.
    func testRunOnAFullDiskKeepsThePreviousFile() throws {
        let written = try QBinTestModel.write(QBinTestModel.make(), samples: 20000, in: folder)
        let out = path("out.h5")
        try HDF5File.create(out).root.writeDataset("outputs", shape: [2, 5], floats: [Float](repeating: 7, count: 10))
        let before = HostileFiles.snapshot([out])
        let result = try limited(blocks: 64, ["run", written.model, "--input", written.data, "--output", out])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains(out), result.stderr)
        XCTAssertEqual(HostileFiles.snapshot([out]), before, "the previous output was touched")
        XCTAssertEqual(try HostileFiles.temporaries(in: folder), [])
    }

    func testConvertOnAFullDiskKeepsThePreviousSet() throws {
        let out = path("out.qbin")
        let first = try CLIRunner.run(convertArguments(seed: 1, out: out))
        XCTAssertEqual(first.status, 0, first.stderr)
        let files = [out, path("out.report.json"), path("out.html")]
        let before = HostileFiles.snapshot(files)
        for blocks in [4, 24] {  // the .qbin (28 KB), written first, fails; RLIMIT_FSIZE is per file
            let result = try limited(blocks: blocks, convertArguments(seed: 2, out: out))
            XCTAssertEqual(result.status, 2, "limit \(blocks) blocks: \(result.stderr)")
            XCTAssertEqual(HostileFiles.snapshot(files), before, "limit \(blocks) blocks: the previous set was touched")
            XCTAssertEqual(try HostileFiles.temporaries(in: folder), [])
        }
    }

    /// Runs the CLI under `ulimit -f blocks` (512- or 1024-byte blocks, depending on the shell).
    private func limited(blocks: Int, _ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let quoted = ([CLIRunner.binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f \(blocks) && exec " + quoted.joined(separator: " ")]
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
