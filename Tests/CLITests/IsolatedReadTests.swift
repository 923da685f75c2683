import Foundation
import QCTestSupport
import QConvertKit
import XCTest

/// Issue 12 leftovers: libhdf5 hangs on a fuzzed model file (read in a time-limited child now),
/// `validate --strict`, concurrent conversions to one destination, and a FIFO where an output goes.
final class IsolatedReadTests: XCTestCase {
    var folder: URL!
    let quick = ["--noise-floor-draws", "0"]

    override func setUpWithError() throws {
        folder = try Fixtures.temporaryFolder(self)
    }

    private func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// fixtures/hostile/libhdf5-global-heap-hang.h5 makes libhdf5 1.10 loop forever in H5HG_read: before
    /// this, `inspect` and `convert` never returned. The global heap check refuses it at once.
    func testLibHDF5HeapHangFileIsRefusedAtOnce() throws {
        let model = Fixtures.path("hostile", "libhdf5-global-heap-hang.h5")
        let start = Date()
        let inspect = try CLIRunner.run(["inspect", model])
        XCTAssertEqual(inspect.status, 2, inspect.stderr)
        XCTAssertTrue(inspect.stderr.contains("global heap collection at byte") && inspect.stderr.contains("loops forever"), inspect.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }

    /// With that check off (as for a libhdf5 bug it does not know), the isolated read stops the hang:
    /// `inspect` and `convert` exit 2 after the time limit and write nothing.
    func testLibHDF5HangOnAFuzzedModelIsStoppedWithExit2() throws {
        let model = Fixtures.path("hostile", "libhdf5-global-heap-hang.h5")
        let environment = ["QCONVERT_ISOLATED_READ_SECONDS": "2", "QCONVERT_HDF5_HEAP_CHECK": "0"]
        let start = Date()
        let inspect = try CLIRunner.run(["inspect", model], environment: environment)
        XCTAssertEqual(inspect.status, 2, inspect.stderr)
        XCTAssertTrue(inspect.stderr.contains(model) && inspect.stderr.contains("did not finish within 2 s in an isolated reader"),
                      inspect.stderr)
        let output = path("hang.qbin")
        let convert = try CLIRunner.run(["convert", model, output] + quick, environment: environment)
        XCTAssertEqual(convert.status, 2, convert.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    /// fixtures/hostile/libhdf5-attribute-name-overread.h5 makes libhdf5 1.10 read past an attribute
    /// name (CVE-2025-2310): whether or not the isolated reader is on, `inspect` and `convert` exit 2
    /// with an error naming the file (no signal) and write nothing.
    func testAttributeNameOverReadIsExit2() throws {
        let model = Fixtures.path("hostile", "libhdf5-attribute-name-overread.h5")
        for environment in [[:], ["QCONVERT_ISOLATED_READ": "0"]] {
            let inspect = try CLIRunner.run(["inspect", model], environment: environment)
            XCTAssertEqual(inspect.status, 2, inspect.stderr)
            XCTAssertTrue(inspect.stderr.hasPrefix("error: ") && inspect.stderr.contains(model), inspect.stderr)
            let output = path("overread.qbin")
            let convert = try CLIRunner.run(["convert", model, output] + quick, environment: environment)
            XCTAssertEqual(convert.status, 2, convert.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        }
    }

    /// fixtures/hostile/libhdf5-global-heap-object-past-end.h5 made libhdf5 1.10 memcpy past a global
    /// heap collection (SIGSEGV when read in-process): the heap check refuses it, with or without the
    /// isolated reader.
    func testGlobalHeapObjectPastEndIsExit2() throws {
        let model = Fixtures.path("hostile", "libhdf5-global-heap-object-past-end.h5")
        for environment in [[:], ["QCONVERT_ISOLATED_READ": "0"]] {
            let inspect = try CLIRunner.run(["inspect", model], environment: environment)
            XCTAssertEqual(inspect.status, 2, inspect.stderr)
            XCTAssertTrue(inspect.stderr.contains("past the collection's end"), inspect.stderr)
        }
    }

    /// fixtures/hostile/libhdf5-vlen-string-bomb.h5 (70 KB) makes libhdf5 1.10 allocate 2.9 GB for a
    /// variable-length string attribute. The isolated reader's address space is held to the budget plus
    /// 1 GiB, so with `--max-memory 256M` the read fails there with exit 2 (libhdf5's own "memory
    /// allocation failed"), and the command reports the child's error instead of reading the file again.
    func testVariableLengthStringBombIsHeldToTheBudget() throws {
        let model = Fixtures.path("hostile", "libhdf5-vlen-string-bomb.h5")
        let inspect = try CLIRunner.run(["inspect", model, "--max-memory", "256M"])
        XCTAssertEqual(inspect.status, 2, inspect.stderr)
        XCTAssertTrue(inspect.stderr.contains("memory allocation failed"), inspect.stderr)
        XCTAssertEqual(inspect.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("error:") }.count, 1, inspect.stderr)
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        XCTAssertLessThan(usage.ru_maxrss, (256 + 1024 + 128) * 1024, "peak RSS of any child, KB")
    }

    /// fixtures/hostile/libhdf5-global-heap-bad-reference.h5 makes libhdf5 1.10 segfault in H5HG_read
    /// (a string's global heap reference that its collection does not hold; no pre-read check knows it):
    /// the isolated reader dies of the signal and the command exits 2 saying so, writing nothing.
    func testLibHDF5CrashIsContainedByTheIsolatedReader() throws {
        let model = Fixtures.path("hostile", "libhdf5-global-heap-bad-reference.h5")
        let inspect = try CLIRunner.run(["inspect", model])
        XCTAssertEqual(inspect.status, 2, inspect.stderr)
        XCTAssertTrue(inspect.stderr.contains("died of signal"), inspect.stderr)
        let output = path("crash.qbin")
        let convert = try CLIRunner.run(["convert", model, output] + quick)
        XCTAssertEqual(convert.status, 2, convert.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    /// A sound file goes through the isolated read unchanged (same exit, same output).
    func testIsolatedReadPassesSoundFilesAndCanBeTurnedOff() throws {
        let model = Fixtures.path("resnet_bn", "model.h5")
        let on = try CLIRunner.run(["inspect", model])
        let off = try CLIRunner.run(["inspect", model], environment: ["QCONVERT_ISOLATED_READ": "0"])
        XCTAssertEqual(on.status, 0, on.stderr)
        XCTAssertEqual(on.stdout, off.stdout)
        let broken = try CLIRunner.run(["inspect", Fixtures.path("resnet_bn", "calib.h5")])
        XCTAssertEqual(broken.status, 2)
        XCTAssertEqual(broken.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("error:") }.count, 1, broken.stderr)
    }

    /// `validate --strict` fails on a warning (a data-free model warns), like `convert --strict`.
    func testValidateStrictTurnsWarningsIntoExit1() throws {
        let qbin = path("free.qbin")
        let converted = try CLIRunner.run(["convert", Fixtures.path("resnet_bn", "model.h5"), qbin, "--calibration-samples", "8"] + quick)
        XCTAssertEqual(converted.status, 0, converted.stderr)
        let reference = Fixtures.path("resnet_bn", "data.h5")
        let plain = try CLIRunner.run(["validate", qbin, "--reference", reference])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("warning: the model was converted data-free"), plain.stderr)
        let strict = try CLIRunner.run(["validate", qbin, "--reference", reference, "--strict"])
        XCTAssertEqual(strict.status, 1, strict.stderr)
        XCTAssertTrue(strict.stderr.contains("--strict: 1 warning(s)"), strict.stderr)
    }

    /// Two conversions with different options racing to one destination: afterwards the `.qbin` and
    /// the JSON report belong to the same run (the report names the `.qbin` by hash). The issue saw the
    /// report of the other run in 1 of 12 trials.
    func testConcurrentConversionsToOnePathLeaveAMatchingPair() throws {
        let model = Fixtures.path("resnet_bn", "model.h5"), calib = Fixtures.path("resnet_bn", "calib.h5")
        let output = path("race.qbin"), report = path("race.report.json")
        for trial in 0..<4 {
            var processes: [Process] = []
            for bits in ["8", "4"] {
                let process = Process()
                process.executableURL = CLIRunner.binary
                process.arguments = ["convert", model, output, "--calibration", calib, "--calibration-samples", "16",
                                     "--bits", bits, "--report", report] + quick
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                processes.append(process)
            }
            for process in processes { process.waitUntilExit() }
            let statuses = processes.map(\.terminationStatus)
            XCTAssertEqual(statuses, [0, 0], "trial \(trial)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any]
            let named = (json?["model"] as? [String: Any])?["quantizedSHA256"] as? String
            XCTAssertEqual(named, try SHA256.hex(fileAt: output), "trial \(trial): the report describes the other run's .qbin")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp-") }
            XCTAssertEqual(leftovers, [], "trial \(trial)")
        }
    }

    /// A FIFO where the report goes must not block the command (nothing opens it for writing: the
    /// report is written beside it and renamed over it).
    func testFIFOAtAnOutputPathDoesNotBlock() throws {
        let report = path("r.json")
        XCTAssertEqual(mkfifo(report, 0o644), 0)
        let start = Date()
        let result = try CLIRunner.run(["convert", Fixtures.path("resnet_bn", "model.h5"), path("f.qbin"),
                                        "--calibration-samples", "4", "--report", report] + quick)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60)
        XCTAssertTrue([0, 2].contains(result.status), result.stderr)
        if result.status == 0 {
            var info = stat()
            XCTAssertEqual(stat(report, &info), 0)
            XCTAssertEqual(info.st_mode & S_IFMT, S_IFREG, "the report replaced the FIFO")
        }
    }
}
