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
        // No build has avx512vnni kernels yet, so this is refused on every CPU (for lack of the CPU
        // feature or of the kernels).
        let vnni = try CLIRunner.run(["inspect", path], environment: ["QCONVERT_ISA": "avx512vnni"])
        XCTAssertEqual(vnni.status, 64, vnni.stderr)
        XCTAssertTrue(vnni.stderr.contains("QCONVERT_ISA=avx512vnni:"), vnni.stderr)
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
