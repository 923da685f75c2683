import XCTest
#if canImport(Glibc)
import Glibc
#endif
@testable import QBin

final class QBinRoundTripTests: XCTestCase {
    func testEncodeDecodeRoundTrip() throws {
        let model = SampleModel.make()
        let bytes = try QBinWriter.encode(model)
        XCTAssertGreaterThan(bytes.count, 1000); XCTAssertLessThan(bytes.count, 3000)
        let decoded = try QBinReader.decode(bytes)
        XCTAssertEqual(decoded, model)
        XCTAssertEqual(decoded.calibrationMethod(forTensor: "conv1_out"), "minmax")
        let conv = decoded.tensors[decoded.tensorIndex(named: "conv1/kernel")!]
        XCTAssertEqual(try conv.unpackedValues(), (0..<216).map { Int32($0 % 15) - 7 })
        XCTAssertEqual(conv.quantAxis, 0)
    }

    func testLayoutAlignmentAndHeader() throws {
        let bytes = try QBinWriter.encode(SampleModel.make())
        XCTAssertEqual(Array(bytes[0..<4]), Array("QBIN".utf8))
        XCTAssertEqual(bytes[4], 1); XCTAssertEqual(bytes[6], 1)  // version 1.1
        for s in QBinFormat.Section.allCases {
            XCTAssertEqual(SampleModel.sectionRange(bytes, s).lowerBound % 32, 0, s.name)
        }
        let data = SampleModel.sectionRange(bytes, .data)
        XCTAssertEqual(data.upperBound, bytes.count)
    }

    func testWritesAreDeterministic() throws {
        let a = try QBinWriter.encode(SampleModel.make())
        let b = try QBinWriter.encode(SampleModel.make())
        XCTAssertEqual(a, b)
        let dir = try temporaryDirectory()
        try QBinWriter.write(SampleModel.make(), to: dir + "/a.qbin")
        try QBinWriter.write(SampleModel.make(), to: dir + "/b.qbin")
        XCTAssertEqual(try QBinReader.readFile(dir + "/a.qbin"), try QBinReader.readFile(dir + "/b.qbin"))
        XCTAssertEqual(try QBinReader.read(path: dir + "/a.qbin"), SampleModel.make())
    }

    func testWriteReplacesAtomicallyAndLeavesNoTemporaryFile() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/m.qbin"
        try QBinWriter.write(SampleModel.make(), to: path)
        var model = SampleModel.make()
        model.metadata.append(QMetadataEntry("note", "second"))
        try QBinWriter.write(model, to: path)
        XCTAssertEqual(try QBinReader.read(path: path), model)
        XCTAssertEqual(try listing(dir), ["m.qbin"])
        // An invalid model fails before anything is written.
        model.tensors[0].scales = [0]
        XCTAssertThrowsError(try QBinWriter.write(model, to: dir + "/bad.qbin"))
        XCTAssertEqual(try listing(dir), ["m.qbin"])
        // An unwritable location: a typed error, no temporary left behind.
        XCTAssertThrowsError(try QBinWriter.write(SampleModel.make(), to: dir + "/missing/x.qbin")) { error in
            guard case QBinError.fileNotWritable = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try QBinReader.read(path: dir + "/nope.qbin")) { error in
            guard case QBinError.fileNotReadable = error else { return XCTFail("\(error)") }
        }
    }

    func testWeightSummaryIsWithinOnePercent() throws {
        let model = SampleModel.make()
        let rows = model.weightSummary()
        XCTAssertEqual(rows.map(\.opName), ["conv1", "bn", "dense"])
        let conv = rows[0]
        XCTAssertEqual(conv.params, 216); XCTAssertEqual(conv.type, .signed(4)!)
        XCTAssertEqual(conv.packedBytes, 8 * 14)  // 27 weights x 4 bits = 108 bits -> 14 bytes per channel
        XCTAssertEqual(conv.idealBytes, 108)
        XCTAssertEqual(conv.perChannelBytes, 8 * 8 + 32 + 64)  // scale+zp, bias, multiplier+shift
        // A realistic layer (3x3x64 -> 64, 3 bits): padding to whole bytes costs well under 1 %.
        let big = QType.signed(3)!
        let packed = big.packedSize(shape: [64, 3, 3, 64])!
        let ideal = Double(64 * 576 * 3) / 8
        XCTAssertLessThan(Double(packed) / ideal - 1, 0.01)
        let totals = model.weightTotals()
        XCTAssertEqual(totals.params, 216 + 8 + 80)
        XCTAssertEqual(totals.packedBytes, 112 + 8 + 80)
    }

    private func temporaryDirectory() throws -> String {
        var template = Array("/tmp/qbin-test-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw QBinError.fileNotWritable(path: "/tmp", reason: "mkdtemp") }
        return String(cString: p)
    }

    private func listing(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }
}
