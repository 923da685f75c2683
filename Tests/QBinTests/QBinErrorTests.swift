import XCTest
@testable import QBin

/// Every `QBinError` case from a precisely damaged file or model.
final class QBinErrorTests: XCTestCase {
    private var valid: [UInt8] { try! QBinWriter.encode(SampleModel.make()) }

    private func assertError(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line,
                             _ check: (QBinError) -> Bool) {
        do {
            _ = try QBinReader.decode(bytes)
            XCTFail("decoded a damaged file", file: file, line: line)
        } catch {
            XCTAssertTrue(check(error), "unexpected error: \(error)", file: file, line: line)
            XCTAssertFalse(error.description.isEmpty, file: file, line: line)
        }
    }

    private func assertInvalid(_ model: QModel, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try QBinWriter.encode(model), file: file, line: line) { error in
            guard case QBinError.invalidModel(let reason) = error, reason.contains(fragment) else {
                return XCTFail("expected invalidModel containing '\(fragment)', got \(error)", file: file, line: line)
            }
        }
    }

    /// A file assembled from the sample model's sections after `patch` edits them (CRCs valid).
    private func assembled(_ patch: (inout [UInt32: [UInt8]]) -> Void, order: [UInt32] = [1, 2, 3, 4]) -> [UInt8] {
        let model = SampleModel.make()
        let (data, offsets) = QBinWriter.encodeData(model)
        var sections: [UInt32: [UInt8]] = [1: QBinWriter.encodeMetadata(model), 2: QBinWriter.encodeTensors(model, blobOffsets: offsets),
                                           3: QBinWriter.encodeOps(model), 4: data]
        patch(&sections)
        return QBinWriter.assemble(order.compactMap { t in sections[t].map { (t, $0) } })
    }

    func testBadMagic() {
        var b = valid; b[0] = 0x7F
        assertError(b) { if case .badMagic(let found) = $0 { return found == [0x7F, 0x42, 0x49, 0x4E] }; return false }
        assertError(Array("GIF".utf8)) { if case .badMagic = $0 { return true }; return false }
        assertError([]) { if case .truncated = $0 { return true }; return false }
    }

    func testNewerMajorRejectedNewerMinorAccepted() throws {
        var b = valid; b[4] = 2; b[6] = 3
        assertError(b) { $0 == .unsupportedVersion(foundMajor: 2, foundMinor: 3, supportedMajor: 1) }
        XCTAssertTrue(QBinError.unsupportedVersion(foundMajor: 2, foundMinor: 3, supportedMajor: 1).description.contains("2.3"))
        var minor = valid; minor[6] = 7
        XCTAssertEqual(try QBinReader.decode(SampleModel.resealed(minor)), SampleModel.make())
    }

    func testUnknownSectionIsSkipped() throws {
        let b = assembled({ $0[99] = [1, 2, 3] }, order: [1, 99, 2, 3, 4])
        XCTAssertEqual(try QBinReader.decode(b), SampleModel.make())
        assertError(assembled({ _ in }, order: [1, 2, 3])) { $0 == .missingSection("DATA") }
        assertError(assembled({ _ in }, order: [1, 2, 3, 4, 2])) {
            if case .invalidEncoding(_, _, let reason) = $0 { return reason.contains("twice") }; return false
        }
    }

    func testChecksumMismatch() {
        var b = valid
        let ops = SampleModel.sectionRange(b, .ops)
        b[ops.lowerBound + 10] ^= 0x20
        assertError(b) { if case .checksumMismatch(let s, _, _) = $0 { return s == "OPS" }; return false }
        var h = valid; h[8] = 1  // flags are covered by the header CRC
        assertError(h) { if case .checksumMismatch(let s, _, _) = $0 { return s == "header" }; return false }
    }

    func testTruncated() {
        let b = valid
        assertError(Array(b.dropLast())) { if case .truncated(let s, _, let needed, _) = $0 { return s == "file" && needed == 1 }; return false }
        assertError(Array(b.prefix(20))) { if case .truncated(let s, _, _, _) = $0 { return s == "header" }; return false }
        assertError(b + [0]) { if case .invalidEncoding(_, _, let r) = $0 { return r.contains("trailing") }; return false }
    }

    func testHugeCountDoesNotAllocate() {
        let b = assembled { s in for k in 0..<4 { s[1]![k] = 0xFF } }  // 4 billion metadata entries
        assertError(b) { if case .truncated(let s, 0, _, _) = $0 { return s == "METADATA" }; return false }
        let c = assembled { s in s[3]! = [0xFF, 0xFF, 0xFF, 0xFF] }
        assertError(c) { if case .truncated(let s, _, _, _) = $0 { return s == "OPS" }; return false }
    }

    func testOffsetOutOfRange() {
        let model = SampleModel.make()
        let (data, offsets) = QBinWriter.encodeData(model)
        var bad = offsets; bad[1] = 1 << 20
        let b = QBinWriter.assemble([(1, QBinWriter.encodeMetadata(model)), (2, QBinWriter.encodeTensors(model, blobOffsets: bad)),
                                     (3, QBinWriter.encodeOps(model)), (4, data)])
        assertError(b) { if case .offsetOutOfRange(_, let field, let value, _) = $0 { return field.contains("conv1/kernel") && value == 1 << 20 }; return false }
        var unaligned = offsets; unaligned[1] = 1
        let u = QBinWriter.assemble([(1, QBinWriter.encodeMetadata(model)), (2, QBinWriter.encodeTensors(model, blobOffsets: unaligned)),
                                     (3, QBinWriter.encodeOps(model)), (4, data)])
        assertError(u) { if case .offsetOutOfRange = $0 { return true }; return false }
        var dir = valid; dir[32 + 8] = 64  // METADATA offset moved
        assertError(SampleModel.resealed(dir)) { if case .offsetOutOfRange(let s, _, _, _) = $0 { return s == "directory" }; return false }
    }

    func testUnknownOpNamesTheNumber() {
        let b = assembled { s in s[3]![4] = 0xE7; s[3]![5] = 0x03 }  // op 0's kind = 999
        assertError(b) { $0 == .unknownOp(kind: 999, opIndex: 0) }
        XCTAssertTrue(QBinError.unknownOp(kind: 999, opIndex: 0).description.contains("999"))
    }

    func testUnknownType() {
        // Tensor 0 "input": count (4) + name length (4) + "input" (5), then the type byte.
        let b = assembled { s in s[2]![13] = 0x09 }
        assertError(b) { $0 == .unknownType(code: 0x09, tensor: "input") }
    }

    func testReservedFieldsAndPaddingMustBeZero() {
        var pad = valid
        let meta = SampleModel.sectionRange(pad, .metadata), tensors = SampleModel.sectionRange(pad, .tensors)
        XCTAssertGreaterThan(tensors.lowerBound, meta.upperBound, "padding between METADATA and TENSORS")
        pad[tensors.lowerBound - 1] = 1
        assertError(pad) { if case .invalidEncoding(let s, _, _) = $0 { return s == "padding" }; return false }
        let r = assembled { s in s[3]![6] = 1 }  // op 0 reserved u16
        assertError(r) { if case .invalidEncoding(let s, _, let why) = $0 { return s == "OPS" && why.contains("reserved") }; return false }
        let t = assembled { s in s[1]! += [0] }  // a trailing byte in METADATA
        assertError(t) { if case .invalidEncoding(let s, _, _) = $0 { return s == "METADATA" }; return false }
        let u = assembled { s in s[1]![8] = 0xFF }  // invalid UTF-8 in the first key
        assertError(u) { if case .invalidEncoding(_, _, let why) = $0 { return why.contains("UTF-8") }; return false }
    }

    func testSemanticChecks() {
        let good = SampleModel.make()
        var m = good; m.tensors[1].data!.removeLast(); assertInvalid(m, "packs into")
        m = good; m.tensors[0].shape = [8, 0, 3]; assertInvalid(m, "dimension")
        m = good; m.tensors[0].scales = [.nan]; assertInvalid(m, "finite")
        m = good; m.tensors[0].zeroPoints = [256]; assertInvalid(m, "zero point 256")
        m = good; m.tensors[1].quantAxis = 2; assertInvalid(m, "per-channel axis")
        m = good; m.tensors[3].name = "input"; assertInvalid(m, "two tensors")
        m = good; m.ops[0].inputs[0] = 99; assertInvalid(m, "out of range")
        m = good; m.ops[0].attributes.removeAll { $0.key == "stride" }; assertInvalid(m, "'stride'")
        m = good; m.ops[0].setAttribute("multiplier", [1, 2, 3]); assertInvalid(m, "'multiplier' has 3 values")
        m = good; m.ops[0].inputs.removeLast(2); assertInvalid(m, "1 inputs")
        m = good; m.ops.swapAt(0, 1); assertInvalid(m, "before any op produces it")
        m = good; m.ops[3].outputs = [3]; assertInvalid(m, "already")
        // Shapes and types per op (section 7), checked here rather than by the simulator and the emulation.
        m = good; m.tensors[m.ops[3].outputs[0]].shape = [8, 8, 8]; assertInvalid(m, "gives [4, 4, 8]")
        m = good; m.outputs = [99]; assertInvalid(m, "out of range")
        m = good; m.inputs = [1]; assertInvalid(m, "is a constant")
        m = good; m.tensors[0].shape = [1 << 33]; assertInvalid(m, "every dimension")
        m = good; m.ops[0].setAttribute("stride", [0, 1]); assertInvalid(m, "'stride' is [0, 1]")
        m = good; m.ops[0].setAttribute("padding", [0, -1, 0, 0]); assertInvalid(m, "'padding'")
        m = good; m.ops[0].setAttribute("clamp", [0, 256]); assertInvalid(m, "clamp [0, 256]")
        m = good; m.ops[0].setAttribute("clamp", [9, 3]); assertInvalid(m, "clamp")
        m = good; m.ops[0].setAttribute("kernel", [5, 5]); assertInvalid(m, "do not match kernel")
        m = good; m.metadata.append(QMetadataEntry("producer", "x")); assertInvalid(m, "appears twice")
        // The reader applies the same checks to well-formed bytes: a graph output index out of range.
        let b = assembled { s in let n = s[3]!.count; s[3]![n - 4] = 200 }
        assertError(b) { if case .invalidModel(let r) = $0 { return r.contains("200") }; return false }
    }
}
