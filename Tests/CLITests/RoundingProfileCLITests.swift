import FixedPoint
import Foundation
import HDF5
@testable import QBin
import QCTestSupport
import Simulator
import XCTest

/// `run` uses the rounding profile the file records (metadata `rounding`, `docs/qbin-format.md`
/// section 3), says so when `--rounding` overrides it, and runs a 1.0 file without the key as gemmlowp.
final class RoundingProfileCLITests: XCTestCase {
    private func simulated(_ model: QModel, _ inputs: [Float], samples: Int, rounding: RoundingProfile) throws -> [Float] {
        let simulator = try IntegerSimulator(model: model, rounding: rounding)
        return inputs.withUnsafeBufferPointer { simulator.run(input: $0, batch: samples)[0] }
    }

    private func recording(_ profile: String) -> QModel {
        var model = QBinTestModel.make()
        model.metadata.removeAll { $0.key == QMetadataEntry.rounding }
        model.metadata.append(QMetadataEntry(QMetadataEntry.rounding, profile))
        return model
    }

    func testRunUsesTheRecordedProfileAndNamesAnOverride() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let samples = 6
        let model = recording("single")
        let paths = try QBinTestModel.write(model, samples: samples, in: folder)
        let single = try simulated(model, paths.inputs, samples: samples, rounding: .single)
        let gemmlowp = try simulated(model, paths.inputs, samples: samples, rounding: .gemmlowp)
        XCTAssertNotEqual(single, gemmlowp, "the test model must tell the profiles apart")

        let out = folder.appendingPathComponent("out.h5").path
        let plain = try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", out])
        XCTAssertEqual(plain.status, 0, plain.stderr)
        XCTAssertFalse(plain.stderr.contains("rounding:"), plain.stderr)
        XCTAssertEqual(try HDF5File.open(out).root.dataset("outputs").readFloats(), single)

        let same = try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", out, "--rounding", "single"])
        XCTAssertEqual(same.status, 0, same.stderr)
        XCTAssertFalse(same.stderr.contains("overrides"), same.stderr)

        let overridden = try CLIRunner.run(["run", paths.model, "--input", paths.data, "--output", out, "--rounding", "gemmlowp"])
        XCTAssertEqual(overridden.status, 0, overridden.stderr)
        XCTAssertTrue(overridden.stderr.contains("--rounding gemmlowp overrides the file's recorded profile single"), overridden.stderr)
        XCTAssertEqual(try HDF5File.open(out).root.dataset("outputs").readFloats(), gemmlowp)
    }

    func testVersionOneZeroFileWithoutTheKeyRunsAsGemmlowp() throws {
        let folder = try Fixtures.temporaryFolder(self)
        let samples = 3
        var model = QBinTestModel.make()
        model.metadata.removeAll { $0.key == QMetadataEntry.rounding }
        let paths = try QBinTestModel.write(QBinTestModel.make(), samples: samples, in: folder)
        // A 1.0 file as a 1.0 writer made it: no rounding key, minor version 0.
        let (data, offsets) = QBinWriter.encodeData(model)
        var bytes = QBinWriter.assemble([(1, QBinWriter.encodeMetadata(model)), (2, QBinWriter.encodeTensors(model, blobOffsets: offsets)),
                                         (3, QBinWriter.encodeOps(model)), (4, data)])
        bytes[6] = 0
        let crc = qbinCRC32(bytes, 0..<24)
        let headerCRC = qbinCRC32(bytes, 32..<(32 + 4 * 24), initial: crc)
        for k in 0..<4 { bytes[24 + k] = UInt8(truncatingIfNeeded: headerCRC >> (8 * k)) }
        let old = folder.appendingPathComponent("old.qbin").path
        XCTAssertTrue(FileManager.default.createFile(atPath: old, contents: Data(bytes)))

        let out = folder.appendingPathComponent("out.h5").path
        let result = try CLIRunner.run(["run", old, "--input", paths.data, "--output", out])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("records no profile (format 1.0); running gemmlowp"), result.stderr)
        XCTAssertEqual(try HDF5File.open(out).root.dataset("outputs").readFloats(),
                       try simulated(model, paths.inputs, samples: samples, rounding: .gemmlowp))

        // The same bytes marked 1.1 are refused: the key is required there.
        bytes[6] = 1
        let crc11 = qbinCRC32(bytes, 0..<24)
        let headerCRC11 = qbinCRC32(bytes, 32..<(32 + 4 * 24), initial: crc11)
        for k in 0..<4 { bytes[24 + k] = UInt8(truncatingIfNeeded: headerCRC11 >> (8 * k)) }
        XCTAssertTrue(FileManager.default.createFile(atPath: old, contents: Data(bytes)))
        let refused = try CLIRunner.run(["run", old, "--input", paths.data, "--output", out])
        XCTAssertEqual(refused.status, 2, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("metadata 'rounding' is missing"), refused.stderr)
    }
}
