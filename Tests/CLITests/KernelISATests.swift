import Foundation
import HDF5
import QCTestSupport
import XCTest

/// `QCONVERT_ISA` through the built binary: a level name that is no level, and one this CPU or build
/// cannot run, are refused with exit 64 and a message naming the available levels, before any work;
/// the portable level runs a real model to the same outputs as the default level.
final class KernelISATests: XCTestCase {
    func testUnknownOrUnavailableLevelIsRefused() throws {
        let path = Fixtures.path("resnet_bn", "model.h5")
        let bogus = try CLIRunner.run(["inspect", path], environment: ["QCONVERT_ISA": "sse9"])
        XCTAssertEqual(bogus.status, 64, bogus.stderr)
        XCTAssertTrue(bogus.stderr.contains("QCONVERT_ISA=sse9 is not a kernel level"), bogus.stderr)
        XCTAssertTrue(bogus.stderr.contains("available here: scalar"), bogus.stderr)
        XCTAssertEqual(bogus.stdout, "", "nothing runs after the refusal")
        // Every level is built on x86-64: each either runs or, on a CPU without its features, is
        // refused with the reason.
        for level in ["avx2", "avx512", "avx512vnni"] {
            let run = try CLIRunner.run(["inspect", path], environment: ["QCONVERT_ISA": level])
            if run.status == 64 {
                XCTAssertTrue(run.stderr.contains("QCONVERT_ISA=\(level): this CPU"), run.stderr)
                XCTAssertTrue(run.stderr.contains("cannot run the \(level) kernels"), run.stderr)
                XCTAssertEqual(run.stdout, "", "nothing runs after the refusal")
            } else {
                XCTAssertEqual(run.status, 0, run.stderr)
            }
        }
    }

    /// Every integer level the CPU runs gives the scalar level's outputs bit for bit on a real `.qbin`
    /// (W8A8 and W4A4, so both the s16 and the u8 GEMM paths run); a level the CPU lacks is refused.
    func testIntegerLevelsRunAQBinBitExactly() throws {
        let folder = try Fixtures.temporaryFolder(self)
        for bits in ["8", "4"] {
            let model = folder.appendingPathComponent("m\(bits).qbin").path
            let convert = try CLIRunner.run([Fixtures.path("resnet_bn", "model.h5"), model, "--bits", bits, "--calibration",
                                             Fixtures.path("resnet_bn", "calib.h5"), "--noise-floor-draws", "0", "--quiet"])
            XCTAssertEqual(convert.status, 0, convert.stderr)
            var reference: [Float]?
            for level in ["scalar", "avx2", "avx512", "avx512vnni"] {
                let out = folder.appendingPathComponent("out-\(bits)-\(level).h5").path
                let run = try CLIRunner.run(["run", model, "--input", Fixtures.path("resnet_bn", "data.h5"), "--output", out, "--raw"],
                                            environment: ["QCONVERT_ISA": level])
                if run.status == 64 {
                    XCTAssertTrue(run.stderr.contains("cannot run the \(level) kernels"), run.stderr)
                    continue
                }
                XCTAssertEqual(run.status, 0, run.stderr)
                let values = try HDF5File.open(out).root.dataset("outputs").readFloats()
                if let reference { XCTAssertEqual(values, reference, "W\(bits) \(level) vs scalar") } else { reference = values }
            }
        }
    }

    func testScalarLevelRunsAModelLikeTheDefault() throws {
        let folder = try Fixtures.temporaryFolder(self)
        var outputs: [[Float]] = []
        for level in ["scalar", ""] {
            let out = folder.appendingPathComponent("out-\(level).h5").path
            let result = try CLIRunner.run(["run", Fixtures.path("dwsep_relu6", "model.h5"), "--input",
                                            Fixtures.path("dwsep_relu6", "data.h5"), "--output", out],
                                           environment: ["QCONVERT_ISA": level])
            XCTAssertEqual(result.status, 0, result.stderr)
            outputs.append(try HDF5File.open(out).root.dataset("outputs").readFloats())
        }
        let reference = try FixtureData("dwsep_relu6")
        assertRowsClose(outputs[0], outputs[1], width: reference.outputShape[1], absolute: 1e-4)
    }
}
