import XCTest
@testable import QBin

/// One test per case of `docs/qbin-format.md` section 7 that the spec names with exactly one error,
/// and the rules of sections 1, 2.3, 3 and 5.1 that 1.1 settled (row padding bits, the `rounding`
/// key, multiplier and shift ranges).
final class QBinSpecErrorTests: XCTestCase {
    private var valid: [UInt8] { try! QBinWriter.encode(SampleModel.make()) }

    private func expect(_ bytes: [UInt8], _ expected: (QBinError) -> Bool, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try QBinReader.decode(bytes)
            XCTFail("decoded", file: file, line: line)
        } catch {
            XCTAssertTrue(expected(error), "unexpected: \(error)", file: file, line: line)
        }
    }

    private func put32(_ b: inout [UInt8], _ v: UInt32, at: Int) { for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }
    private func put64(_ b: inout [UInt8], _ v: UInt64, at: Int) { for k in 0..<8 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * k)) } }

    /// `model`'s sections encoded without the writer's checks, as another producer might write them.
    private func unchecked(_ model: QModel, order: [UInt32] = [1, 2, 3, 4], minor: UInt16 = QBinFormat.versionMinor) -> [UInt8] {
        let (data, offsets) = QBinWriter.encodeData(model)
        let sections: [UInt32: [UInt8]] = [1: QBinWriter.encodeMetadata(model), 2: QBinWriter.encodeTensors(model, blobOffsets: offsets),
                                           3: QBinWriter.encodeOps(model), 4: data]
        var b = QBinWriter.assemble(order.map { ($0, sections[$0]!) })
        b[6] = UInt8(minor & 0xFF); b[7] = UInt8(minor >> 8)
        return SampleModel.resealed(b)
    }

    private func invalidModel(_ fragment: String) -> (QBinError) -> Bool {
        { if case .invalidModel(let reason) = $0 { return reason.contains(fragment) }; return false }
    }

    func testShortFilesAndMagic() {
        expect([]) { if case .truncated("header", _, _, _) = $0 { return true }; return false }
        expect([0x51, 0x42]) { if case .truncated("header", _, _, _) = $0 { return true }; return false }
        expect(Array("GIF".utf8)) { if case .badMagic = $0 { return true }; return false }
        expect(Array(valid.prefix(20))) { if case .truncated("header", _, _, _) = $0 { return true }; return false }
    }

    func testFileSizeTooShortAndTooLong() {
        expect(Array(valid.dropLast())) { if case .truncated("file", _, _, _) = $0 { return true }; return false }
        expect(valid + [0]) { if case .invalidEncoding("header", 16, _) = $0 { return true }; return false }
    }

    func testHeaderReservedSectionCountAndDirectory() {
        var b = valid; b[28] = 1
        expect(b) { if case .invalidEncoding("header", 28, _) = $0 { return true }; return false }
        for count: UInt32 in [0, 65] {
            var c = valid; put32(&c, count, at: 12)
            expect(SampleModel.resealed(c)) { if case .invalidEncoding("header", 12, _) = $0 { return true }; return false }
        }
        var d = Array(valid.prefix(100)); put64(&d, 100, at: 16)  // 4 directory entries end at 128
        expect(d) { if case .truncated("header", _, _, _) = $0 { return true }; return false }
        var e = valid; e[40] ^= 1  // a directory byte: the header CRC covers it
        expect(e) { if case .checksumMismatch("header", _, _) = $0 { return true }; return false }
    }

    func testDuplicateSectionAndTrailingSectionBytes() {
        expect(unchecked(SampleModel.make(), order: [1, 2, 3, 4, 2])) {
            if case .invalidEncoding("directory", _, let reason) = $0 { return reason.contains("twice") }; return false
        }
        var b = valid + [UInt8](repeating: 0, count: 32)
        put64(&b, UInt64(b.count), at: 16)
        expect(SampleModel.resealed(b)) { if case .invalidEncoding("file", _, _) = $0 { return true }; return false }
    }

    func testHasDataAboveOne() {
        var b = valid
        // First tensor record: u32 count, then name "input" (u32 length + 5 bytes), type, hasData.
        let at = SampleModel.sectionRange(b, .tensors).lowerBound + 4 + 4 + 5 + 1
        XCTAssertEqual(b[at], 0)
        b[at] = 2
        expect(SampleModel.resealed(b)) { if case .invalidEncoding("TENSORS", _, let reason) = $0 { return reason.contains("hasData is 2") }; return false }
    }

    func testEmptyAndDuplicateMetadataKeys() {
        var m = SampleModel.make(); m.metadata.append(QMetadataEntry("", "x"))
        expect(unchecked(m), invalidModel("a metadata key is empty"))
        m = SampleModel.make(); m.metadata.append(QMetadataEntry("producer", "again"))
        expect(unchecked(m), invalidModel("metadata key 'producer' appears twice"))
    }

    func testRoundingKeyRequiredSinceOnePointOne() throws {
        var m = SampleModel.make()
        m.metadata.removeAll { $0.key == QMetadataEntry.rounding }
        expect(unchecked(m), invalidModel("metadata 'rounding' is missing"))
        XCTAssertThrowsError(try QBinWriter.encode(m))
        // A 1.0 file without the key is read; runtimes take it as gemmlowp.
        let old = try QBinReader.decode(unchecked(m, minor: 0))
        XCTAssertNil(old.recordedRounding)
        m.metadata.append(QMetadataEntry(QMetadataEntry.rounding, "fp32"))
        expect(unchecked(m, minor: 0), invalidModel("'fp32', not a rounding profile"))
        XCTAssertEqual(try QBinReader.decode(valid).recordedRounding, "gemmlowp")
        XCTAssertEqual(Array(valid[4..<8]), [1, 0, 1, 0])  // version 1.1
    }

    func testRowPaddingBitsAreIgnored() throws {
        var b = valid
        // conv1/kernel is the first blob: 8 rows of 27 s4 values = 13.5 bytes, padded to 14; byte 13 of
        // each row holds value 26 in its low nibble and 4 padding bits.
        let data = SampleModel.sectionRange(b, .data).lowerBound
        for row in 0..<8 { b[data + row * 14 + 13] |= 0xA0 }
        let decoded = try QBinReader.decode(SampleModel.resealed(b)), original = SampleModel.make()
        XCTAssertNotEqual(decoded.tensors[1].data, original.tensors[1].data)  // the bytes kept as stored
        for (d, o) in zip(decoded.tensors, original.tensors) {
            XCTAssertEqual(try d.unpackedValues(), try o.unpackedValues(), d.name)
        }
    }

    func testMultiplierAndShiftRanges() {
        for (key, value, fragment) in [("multiplier", Int32(-1), "'multiplier'"), ("shift", Int32(31), "'shift'"),
                                       ("shift", Int32(-32), "'shift'")] {
            var m = SampleModel.make()
            m.ops[5].setAttribute(key, [value])
            expect(unchecked(m), invalidModel(fragment))
        }
        var m = SampleModel.make()
        m.ops[2].setAttribute("left_shift", [31])
        expect(unchecked(m), invalidModel("'left_shift'"))
        m = SampleModel.make()
        m.ops[2].setAttribute("input_shift", [-1, 40])
        expect(unchecked(m), invalidModel("'input_shift'"))
        // (0, 0) and any multiplier below 2^30 are valid.
        m = SampleModel.make()
        m.ops[5].setAttribute("multiplier", [0]); m.ops[5].setAttribute("shift", [0])
        m.ops[2].setAttribute("output_multiplier", [12345])
        XCTAssertNoThrow(try QBinReader.decode(unchecked(m)))
    }
}
