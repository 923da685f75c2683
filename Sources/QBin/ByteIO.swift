import QCZlib

/// zlib's CRC-32 (`crc32(0, bytes, n)`) of `bytes[range]`, continuing from `initial`.
func qbinCRC32(_ bytes: [UInt8], _ range: Range<Int>, initial: UInt32 = 0) -> UInt32 {
    precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "qbinCRC32: range \(range) outside \(bytes.count) bytes")
    return bytes.withUnsafeBufferPointer { buffer in
        var crc = UInt(initial)
        var start = range.lowerBound
        while start < range.upperBound {  // zlib's length is a uInt: feed at most 1 GiB at a time
            let n = min(range.upperBound - start, 1 << 30)
            crc = crc32(crc, buffer.baseAddress! + start, UInt32(n))
            start += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}

/// Appends little-endian values and length-prefixed strings/arrays to a byte buffer.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { append(UInt64(v), 2) }
    mutating func u32(_ v: UInt32) { append(UInt64(v), 4) }
    mutating func u64(_ v: UInt64) { append(v, 8) }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func count(_ n: Int) { u32(UInt32(n)) }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        count(utf8.count)
        bytes += utf8
    }
    mutating func index(_ i: Int) { u32(UInt32(i)) }
    mutating func padToAlignment(_ a: Int) {
        while bytes.count % a != 0 { bytes.append(0) }
    }
    private mutating func append(_ v: UInt64, _ n: Int) {
        for k in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * k))) }
    }
}

/// A bounds-checked little-endian cursor over one section of untrusted bytes. Every read checks the
/// bytes that remain first; counts are checked against the remaining bytes before any allocation.
struct ByteReader {
    let bytes: [UInt8]
    let section: String
    /// Absolute offset of the section, for error messages only.
    let base: Int
    let end: Int
    private(set) var position: Int

    init(_ bytes: [UInt8], range: Range<Int>, section: String) {
        self.bytes = bytes; self.section = section
        self.base = range.lowerBound; self.end = range.upperBound; self.position = range.lowerBound
    }

    var remaining: Int { end - position }
    /// Section-relative offset of the cursor.
    var offset: Int { position - base }

    mutating func need(_ n: Int) throws(QBinError) {
        guard n >= 0, n <= remaining else {
            throw .truncated(section: section, offset: offset, needed: n, available: remaining)
        }
    }
    mutating func u8() throws(QBinError) -> UInt8 {
        try need(1)
        defer { position += 1 }
        return bytes[position]
    }
    mutating func u16() throws(QBinError) -> UInt16 { UInt16(truncatingIfNeeded: try le(2)) }
    mutating func u32() throws(QBinError) -> UInt32 { UInt32(truncatingIfNeeded: try le(4)) }
    mutating func u64() throws(QBinError) -> UInt64 { try le(8) }
    mutating func i32() throws(QBinError) -> Int32 { Int32(bitPattern: try u32()) }
    mutating func f32() throws(QBinError) -> Float { Float(bitPattern: try u32()) }

    /// A `u32` count of elements that each take at least `minElementSize` bytes, checked against the
    /// bytes that remain so that a corrupted count never drives an allocation.
    mutating func count(minElementSize: Int) throws(QBinError) -> Int {
        let at = offset
        let n = Int(try u32())
        guard n <= remaining / max(minElementSize, 1) else {
            throw .truncated(section: section, offset: at, needed: n * max(minElementSize, 1), available: remaining)
        }
        return n
    }

    mutating func bytes(_ n: Int) throws(QBinError) -> ArraySlice<UInt8> {
        try need(n)
        defer { position += n }
        return bytes[position..<position + n]
    }

    mutating func string(_ what: String) throws(QBinError) -> String {
        let at = offset
        let n = try count(minElementSize: 1)
        let raw = try bytes(n)
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw .invalidEncoding(section: section, offset: at, reason: "\(what) is not valid UTF-8")
        }
        return s
    }

    mutating func i32Array(_ what: String) throws(QBinError) -> [Int32] {
        let n = try count(minElementSize: 4)
        var out: [Int32] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try i32()) }
        return out
    }

    mutating func indexArray(_ what: String) throws(QBinError) -> [Int] {
        let n = try count(minElementSize: 4)
        var out: [Int] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(Int(try u32())) }
        return out
    }

    mutating func zero<T: BinaryInteger>(_ value: T, _ what: String, at: Int) throws(QBinError) {
        guard value == 0 else {
            throw .invalidEncoding(section: section, offset: at, reason: "reserved field \(what) is \(value), must be 0")
        }
    }

    func expectEnd() throws(QBinError) {
        guard remaining == 0 else {
            throw .invalidEncoding(section: section, offset: offset, reason: "\(remaining) unexpected trailing bytes")
        }
    }

    private mutating func le(_ n: Int) throws(QBinError) -> UInt64 {
        try need(n)
        var v: UInt64 = 0
        for k in 0..<n { v |= UInt64(bytes[position + k]) << (8 * k) }
        position += n
        return v
    }
}
