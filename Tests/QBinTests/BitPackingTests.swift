import XCTest
@testable import QBin

final class BitPackingTests: XCTestCase {
    func testRegistryCodesAndRanges() {
        XCTAssertEqual(QType.all.count, 15)
        XCTAssertEqual(Set(QType.all.map(\.code)).count, 15, "codes are unique")
        for t in QType.all { XCTAssertEqual(QType(code: t.code), t) }
        XCTAssertNil(QType(code: 0x09)); XCTAssertNil(QType(code: 0x11)); XCTAssertNil(QType(code: 0))
        XCTAssertNil(QType.signed(1)); XCTAssertNil(QType.unsigned(9))
        XCTAssertEqual(QType.signed(3)!.minValue, -4); XCTAssertEqual(QType.signed(3)!.maxValue, 3)
        XCTAssertEqual(QType.unsigned(5)!.maxValue, 31)
        XCTAssertEqual(QType.signed(4)!.code, 0x14); XCTAssertEqual(QType.unsigned(8)!.code, 0x08); XCTAssertEqual(QType.int32.code, 0x20)
    }

    /// `ceil(n * b / 8)` per row, checked against an independent count of bits for every width.
    func testSizeFormulaEveryWidth() {
        for bits in 2...8 {
            for n in [1, 2, 3, 7, 8, 9, 15, 16, 17, 27, 64, 1000] {
                var bytes = 0, bitsLeft = 0
                for _ in 0..<n { // independent: allocate bytes as bits arrive
                    if bitsLeft < bits { let need = (bits - bitsLeft + 7) / 8; bytes += need; bitsLeft += 8 * need }
                    bitsLeft -= bits
                }
                XCTAssertEqual(QType.signed(bits)!.bytesPerRow(n), bytes, "\(bits) bits x \(n)")
                XCTAssertEqual(BitPacking.pack([Int32](repeating: 0, count: n * 3), as: QType.unsigned(bits)!, rowLength: n).count, 3 * bytes)
            }
        }
        // The spec's examples: 8 weights of 4 bits in 4 bytes, 8 of 3 bits in 3, 4 of 2 bits in 1.
        XCTAssertEqual(QType.signed(4)!.bytesPerRow(8), 4)
        XCTAssertEqual(QType.signed(3)!.bytesPerRow(8), 3)
        XCTAssertEqual(QType.signed(2)!.bytesPerRow(4), 1)
        XCTAssertEqual(QType.int32.packedSize(shape: [10]), 40)
        XCTAssertEqual(QType.signed(3)!.packedSize(shape: [4, 3, 3, 3]), 4 * 11)  // 27 * 3 = 81 bits -> 11 bytes per row
        XCTAssertNil(QType.signed(8)!.packedSize(shape: [1 << 40, 1 << 40]))
    }

    func testLayoutIsLSBFirst() {
        // 4 bits: low nibble first.
        XCTAssertEqual(BitPacking.pack([1, 2, 3, 4] as [Int32], as: .unsigned(4)!, rowLength: 4), [0x21, 0x43])
        // Signed 4 bits: -1 = 0xF, -8 = 0x8.
        XCTAssertEqual(BitPacking.pack([-1, -8, 7] as [Int32], as: .signed(4)!, rowLength: 3), [0x8F, 0x07])
        // 2 bits: four per byte, first in bits 0-1.
        XCTAssertEqual(BitPacking.pack([1, 2, 3, 0, 3] as [Int32], as: .unsigned(2)!, rowLength: 5), [0b00_11_10_01, 0b11])
        // 3 bits: 5,6,7 -> bits 101 110 111 -> stream LSB first: byte0 = 0b11_110_101, byte1 = 0b1 (value 2's top bit).
        XCTAssertEqual(BitPacking.pack([5, 6, 7] as [Int32], as: .unsigned(3)!, rowLength: 3), [0b1111_0101, 0b1])
        // Rows padded to whole bytes: two rows of three 3-bit values take 2 bytes each.
        XCTAssertEqual(BitPacking.pack([7, 0, 0, 7, 0, 0] as [Int32], as: .unsigned(3)!, rowLength: 3), [0x07, 0x00, 0x07, 0x00])
        // int32: little-endian.
        XCTAssertEqual(BitPacking.pack([-2, 0x01020304] as [Int32], as: .int32, rowLength: 2), [0xFE, 0xFF, 0xFF, 0xFF, 4, 3, 2, 1])
    }

    func testRoundTripEveryWidthSignedAndUnsignedOddRows() throws {
        var rng = SplitMix(seed: 42)
        for type in QType.all {
            for rowLength in [1, 3, 5, 7, 13, 31, 64] {
                let rows = 3
                let values = (0..<rows * rowLength).map { i -> Int32 in
                    // Hit both ends of the range, then random values.
                    if i == 0 { return Int32(type.minValue) }
                    if i == 1 && rowLength > 1 { return Int32(type.maxValue) }
                    return Int32(type.minValue + Int64(rng.next() % UInt64(type.maxValue - type.minValue + 1)))
                }
                let packed = BitPacking.pack(values, as: type, rowLength: rowLength)
                XCTAssertEqual(packed.count, rows * type.bytesPerRow(rowLength), "\(type) x \(rowLength)")
                XCTAssertEqual(try BitPacking.unpack(packed, as: type, rows: rows, rowLength: rowLength), values, "\(type) x \(rowLength)")
                // Padding bits of each row are zero.
                let usedBits = rowLength * type.bits
                if usedBits % 8 != 0 {
                    let last = packed[type.bytesPerRow(rowLength) - 1]
                    XCTAssertEqual(last >> (usedBits % 8), 0, "\(type) x \(rowLength): padding bits")
                }
            }
        }
        let int8Values: [Int8] = [-8, 7, 0, -1]
        XCTAssertEqual(BitPacking.pack(int8Values, as: .signed(4)!, rowLength: 4),
                       BitPacking.pack(int8Values.map(Int32.init), as: .signed(4)!, rowLength: 4))
    }

    func testUnpackRejectsWrongLength() {
        XCTAssertThrowsError(try BitPacking.unpack([0, 0], as: .signed(4)!, rows: 1, rowLength: 5)) { error in
            guard case QBinError.invalidModel = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try BitPacking.unpack([], as: .signed(4)!, rows: Int.max, rowLength: 2))
    }

    func testCRCMatchesZlibCheckValue() {
        XCTAssertEqual(qbinCRC32(Array("123456789".utf8), 0..<9), 0xCBF4_3926)
        let b = Array("123456789".utf8)
        XCTAssertEqual(qbinCRC32(b, 4..<9, initial: qbinCRC32(b, 0..<4)), 0xCBF4_3926)
    }
}

/// Deterministic test random numbers.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
