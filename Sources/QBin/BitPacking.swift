/// Packs integer values into the `.qbin` row layout and back (`docs/qbin-format.md`, section 4.2).
///
/// Within a row, value `i` of `b` bits occupies bits `[i*b, (i+1)*b)` of the row's bit stream, bit `k`
/// of the stream being bit `k % 8` of byte `k / 8` (LSB first); signed values are `b`-bit two's
/// complement; each row is padded with zero bits to a whole byte. Examples: 8 weights of 4 bits in 4
/// bytes, low nibble first; 8 weights of 3 bits in 3 bytes; 4 weights of 2 bits per byte. `i32` is
/// little-endian, 4 bytes per value.
public enum BitPacking {
    /// Packs `values` (row-major, `values.count` a multiple of `rowLength`) as `type`.
    ///
    /// - Precondition: every value is within `type.minValue ... type.maxValue` and `rowLength >= 1`
    ///   (the quantizer's job: an out-of-range value here is a programmer error).
    public static func pack(_ values: [Int32], as type: QType, rowLength: Int) -> [UInt8] {
        precondition(rowLength >= 1 && values.count % rowLength == 0, "BitPacking.pack: \(values.count) values do not form rows of \(rowLength)")
        let rows = values.count / rowLength
        let rowBytes = type.bytesPerRow(rowLength)
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        if type.bits == 32 {
            for (i, v) in values.enumerated() {
                let u = UInt32(bitPattern: v)
                for k in 0..<4 { out[i * 4 + k] = UInt8(truncatingIfNeeded: u >> (8 * k)) }
            }
            return out
        }
        let bits = type.bits
        let mask = UInt64((1 << bits) - 1)
        for row in 0..<rows {
            var acc: UInt64 = 0, filled = 0, byte = row * rowBytes
            for i in 0..<rowLength {
                let v = values[row * rowLength + i]
                precondition(Int64(v) >= type.minValue && Int64(v) <= type.maxValue,
                             "BitPacking.pack: value \(v) at row \(row), index \(i) does not fit \(type)")
                acc |= (UInt64(UInt32(bitPattern: v)) & mask) << filled
                filled += bits
                while filled >= 8 {
                    out[byte] = UInt8(truncatingIfNeeded: acc)
                    acc >>= 8; filled -= 8; byte += 1
                }
            }
            if filled > 0 { out[byte] = UInt8(truncatingIfNeeded: acc) }
        }
        return out
    }

    /// Packs `Int8` values (weights of 2 ... 8 bits).
    public static func pack(_ values: [Int8], as type: QType, rowLength: Int) -> [UInt8] {
        pack(values.map { Int32($0) }, as: type, rowLength: rowLength)
    }

    /// Unpacks `rows * rowLength` values of `type` from `bytes`, sign-extending signed types.
    /// Throws `invalidModel` when `bytes` is not exactly `rows * bytesPerRow(rowLength)` long.
    public static func unpack(_ bytes: [UInt8], as type: QType, rows: Int, rowLength: Int) throws(QBinError) -> [Int32] {
        guard rows >= 0, rowLength >= 1 else {
            throw .invalidModel(reason: "unpack: \(rows) rows of \(rowLength) values is not a valid layout")
        }
        let rowBytes = type.bytesPerRow(rowLength)
        let (expected, overflow) = rows.multipliedReportingOverflow(by: rowBytes)
        guard !overflow, expected == bytes.count else {
            throw .invalidModel(reason: "unpack: \(bytes.count) bytes for \(rows) rows of \(rowLength) \(type) values, expected \(overflow ? "too many" : String(expected))")
        }
        var out = [Int32](repeating: 0, count: rows * rowLength)
        if type.bits == 32 {
            for i in out.indices {
                var u: UInt32 = 0
                for k in 0..<4 { u |= UInt32(bytes[i * 4 + k]) << (8 * k) }
                out[i] = Int32(bitPattern: u)
            }
            return out
        }
        let bits = type.bits
        let mask = UInt64((1 << bits) - 1)
        let signBit = UInt64(1) << (bits - 1)
        for row in 0..<rows {
            var acc: UInt64 = 0, filled = 0, byte = row * rowBytes
            for i in 0..<rowLength {
                while filled < bits {
                    acc |= UInt64(bytes[byte]) << filled
                    filled += 8; byte += 1
                }
                var u = acc & mask
                acc >>= bits; filled -= bits
                if type.isSigned && u & signBit != 0 { u |= ~mask }  // sign-extend
                out[row * rowLength + i] = Int32(truncatingIfNeeded: Int64(bitPattern: u))
            }
        }
        return out
    }
}
