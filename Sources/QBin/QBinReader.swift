#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes and validates `.qbin` bytes (`docs/qbin-format.md`, section 7 lists the checks in order).
/// Untrusted input gives a `QModel` or a `QBinError`, never a crash, a hang or an unbounded allocation.
public enum QBinReader {
    /// Reads and decodes the file at `path`.
    public static func read(path: String, maxBytes: Int = Int.max) throws(QBinError) -> QModel {
        try decode(readFile(path, maxBytes: maxBytes))
    }

    /// The model in `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(QBinError) -> QModel {
        let sections = try readDirectory(bytes)
        func range(_ s: QBinFormat.Section) throws(QBinError) -> Range<Int> {
            guard let r = sections[s.rawValue] else { throw .missingSection(s.name) }
            return r
        }
        let metadata = try decodeMetadata(bytes, try range(.metadata))
        let dataRange = try range(.data)
        let tensors = try decodeTensors(bytes, try range(.tensors), data: dataRange)
        let (ops, inputs, outputs) = try decodeOps(bytes, try range(.ops))
        let model = QModel(metadata: metadata, tensors: tensors, ops: ops, inputs: inputs, outputs: outputs)
        try model.validate()
        // Format 1.1 made the rounding profile required metadata (readDirectory has checked the header).
        let minor = UInt16(bytes[6]) | UInt16(bytes[7]) << 8
        try model.validateRounding(required: minor >= 1)
        return model
    }

    /// Checks the header, the directory and every section's placement and CRC; returns the byte
    /// range of each section by type (unknown types included, for the caller to ignore).
    static func readDirectory(_ bytes: [UInt8]) throws(QBinError) -> [UInt32: Range<Int>] {
        var h = ByteReader(bytes, range: 0..<bytes.count, section: "header")
        guard bytes.count >= 4 else {
            if bytes.count > 0 && !bytes.elementsEqual(QBinFormat.magic.prefix(bytes.count)) {
                throw .badMagic(found: bytes)
            }
            throw .truncated(section: "header", offset: 0, needed: QBinFormat.headerSize, available: bytes.count)
        }
        let magic = Array(try h.bytes(4))
        guard magic == QBinFormat.magic else { throw .badMagic(found: magic) }
        let major = try h.u16(), minor = try h.u16()
        guard major == QBinFormat.versionMajor else {
            throw .unsupportedVersion(foundMajor: major, foundMinor: minor, supportedMajor: QBinFormat.versionMajor)
        }
        try h.need(QBinFormat.headerSize - 8)
        _ = try h.u32()  // flags: none defined in 1.0; unknown bits are optional features
        let sectionCount = Int(try h.u32())
        let fileSize = try h.u64()
        let storedCRC = try h.u32()
        try h.zero(try h.u32(), "header.reserved", at: 28)
        guard fileSize == UInt64(bytes.count) else {
            if fileSize > UInt64(bytes.count) {
                throw .truncated(section: "file", offset: bytes.count, needed: Int(clamping: fileSize) - bytes.count, available: 0)
            }
            throw .invalidEncoding(section: "header", offset: 16, reason: "fileSize is \(fileSize) but the file has \(bytes.count) bytes (trailing garbage)")
        }
        guard (1...QBinFormat.maxSections).contains(sectionCount) else {
            throw .invalidEncoding(section: "header", offset: 12, reason: "section count \(sectionCount) is not in 1...\(QBinFormat.maxSections)")
        }
        let directoryEnd = QBinFormat.headerSize + sectionCount * QBinFormat.directoryEntrySize
        try h.need(directoryEnd - QBinFormat.headerSize)
        let crc = qbinCRC32(bytes, 0..<24)
        let computed = qbinCRC32(bytes, QBinFormat.headerSize..<directoryEnd, initial: crc)
        guard computed == storedCRC else {
            throw .checksumMismatch(section: "header", expected: storedCRC, found: computed)
        }

        var result: [UInt32: Range<Int>] = [:]
        var expectedOffset = QBinFormat.aligned(directoryEnd)
        var previousEnd = directoryEnd
        for i in 0..<sectionCount {
            let type = try h.u32(), sectionCRC = try h.u32(), offset = try h.u64(), length = try h.u64()
            let name = QBinFormat.Section(rawValue: type)?.name ?? "section type \(type)"
            guard offset == UInt64(expectedOffset) else {
                throw .offsetOutOfRange(section: "directory", field: "\(name) offset", value: offset, limit: UInt64(expectedOffset))
            }
            guard expectedOffset <= bytes.count, length <= UInt64(bytes.count - expectedOffset) else {
                throw .truncated(section: name, offset: expectedOffset, needed: Int(clamping: length), available: max(bytes.count - expectedOffset, 0))
            }
            for p in previousEnd..<expectedOffset where bytes[p] != 0 {
                throw .invalidEncoding(section: "padding", offset: p, reason: "padding byte is \(bytes[p]), must be 0")
            }
            let r = expectedOffset..<(expectedOffset + Int(length))
            guard result[type] == nil else {
                throw .invalidEncoding(section: "directory", offset: QBinFormat.headerSize + i * QBinFormat.directoryEntrySize,
                                       reason: "\(name) appears twice")
            }
            let found = qbinCRC32(bytes, r)
            guard found == sectionCRC else { throw .checksumMismatch(section: name, expected: sectionCRC, found: found) }
            result[type] = r
            previousEnd = r.upperBound
            expectedOffset = i == sectionCount - 1 ? r.upperBound : QBinFormat.aligned(r.upperBound)
        }
        guard previousEnd == bytes.count else {
            throw .invalidEncoding(section: "file", offset: previousEnd, reason: "\(bytes.count - previousEnd) bytes after the last section")
        }
        return result
    }

    static func decodeMetadata(_ bytes: [UInt8], _ range: Range<Int>) throws(QBinError) -> [QMetadataEntry] {
        var r = ByteReader(bytes, range: range, section: "METADATA")
        let n = try r.count(minElementSize: 8)
        var entries: [QMetadataEntry] = []
        for _ in 0..<n {
            let key = try r.string("metadata key")
            entries.append(QMetadataEntry(key, try r.string("metadata value for '\(key)'")))
        }
        try r.expectEnd()
        return entries
    }

    static func decodeTensors(_ bytes: [UInt8], _ range: Range<Int>, data: Range<Int>) throws(QBinError) -> [QTensor] {
        var r = ByteReader(bytes, range: range, section: "TENSORS")
        // Smallest record: empty name (4), type/hasData/rank/reserved (4), axis (4), count (4), offsets (16).
        let n = try r.count(minElementSize: 32)
        var tensors: [QTensor] = []
        var blobEnd: UInt64 = 0
        for index in 0..<n {
            let name = try r.string("name of tensor \(index)")
            let code = try r.u8()
            let hasDataAt = r.offset
            let hasData = try r.u8()
            let rank = Int(try r.u8())
            try r.zero(try r.u8(), "reserved byte of tensor '\(name)'", at: r.offset - 1)
            guard let type = QType(code: code) else { throw .unknownType(code: code, tensor: name) }
            guard hasData <= 1 else {
                throw .invalidEncoding(section: "TENSORS", offset: hasDataAt, reason: "tensor '\(name)' hasData is \(hasData), must be 0 or 1")
            }
            guard rank <= QBinFormat.maxRank else {
                throw .invalidModel(reason: "tensor '\(name)' has rank \(rank), at most \(QBinFormat.maxRank) allowed")
            }
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(Int(try r.u32())) }
            let axis = try r.i32()
            let paramCount = try r.count(minElementSize: 8)
            var scales: [Float] = [], zeroPoints: [Int32] = []
            scales.reserveCapacity(paramCount); zeroPoints.reserveCapacity(paramCount)
            for _ in 0..<paramCount { scales.append(try r.f32()) }
            for _ in 0..<paramCount { zeroPoints.append(try r.i32()) }
            let offsetAt = r.offset
            let dataOffset = try r.u64(), dataLength = try r.u64()
            var blob: [UInt8]? = nil
            if hasData == 1 {
                let limit = UInt64(data.count)
                guard dataOffset % UInt64(QBinFormat.alignment) == 0, dataOffset >= blobEnd, dataOffset <= limit else {
                    throw .offsetOutOfRange(section: "TENSORS", field: "dataOffset of tensor '\(name)'", value: dataOffset, limit: limit)
                }
                guard dataLength <= limit - dataOffset else {
                    throw .offsetOutOfRange(section: "TENSORS", field: "dataOffset + dataLength of tensor '\(name)'",
                                            value: dataOffset &+ dataLength, limit: limit)
                }
                let start = data.lowerBound + Int(dataOffset)
                blob = Array(bytes[start..<start + Int(dataLength)])
                blobEnd = dataOffset + dataLength
            } else if dataOffset != 0 || dataLength != 0 {
                throw .invalidEncoding(section: "TENSORS", offset: offsetAt, reason: "activation tensor '\(name)' has a data offset/length")
            }
            tensors.append(QTensor(name: name, shape: shape, type: type, scales: scales, zeroPoints: zeroPoints,
                                   quantAxis: axis == -1 ? nil : Int(axis), data: blob))
        }
        try r.expectEnd()
        return tensors
    }

    static func decodeOps(_ bytes: [UInt8], _ range: Range<Int>) throws(QBinError) -> ([QOp], [Int], [Int]) {
        var r = ByteReader(bytes, range: range, section: "OPS")
        // Smallest op: kind + reserved (4), name (4), three counts (12).
        let n = try r.count(minElementSize: 20)
        var ops: [QOp] = []
        for index in 0..<n {
            let rawKind = try r.u16()
            try r.zero(try r.u16(), "reserved field of op \(index)", at: r.offset - 2)
            guard let kind = QOpKind(rawValue: rawKind) else { throw .unknownOp(kind: rawKind, opIndex: index) }
            let name = try r.string("name of op \(index)")
            let inputs = try r.indexArray("inputs of op '\(name)'")
            let outputs = try r.indexArray("outputs of op '\(name)'")
            let attributeCount = try r.count(minElementSize: 8)
            var attributes: [QAttribute] = []
            for _ in 0..<attributeCount {
                let key = try r.string("attribute key of op '\(name)'")
                attributes.append(QAttribute(key, try r.i32Array("attribute '\(key)' of op '\(name)'")))
            }
            ops.append(QOp(kind: kind, name: name, inputs: inputs, outputs: outputs, attributes: attributes))
        }
        let inputs = try r.indexArray("graph inputs")
        let outputs = try r.indexArray("graph outputs")
        try r.expectEnd()
        return (ops, inputs, outputs)
    }

    /// The bytes of the regular file at `path`. Refuses anything else (a FIFO would block, a device
    /// such as `/dev/zero` never ends) and checks the real size against `maxBytes` and against the
    /// header's `fileSize` before reading the body, so a huge or lying file costs no memory.
    static func readFile(_ path: String, maxBytes: Int = Int.max) throws(QBinError) -> [UInt8] {
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .fileNotReadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .fileNotReadable(path: path, reason: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .fileNotReadable(path: path, reason: "it is not a regular file (a FIFO, device or directory); pass a .qbin file")
        }
        let size = Int(info.st_size)
        guard size <= maxBytes else {
            throw .fileNotReadable(path: path, reason: "it has \(size) bytes, more than the memory budget of \(maxBytes) bytes (--max-memory)")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let want = Swift.min(1 << 20, size - done)
            let n = bytes.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + done, want) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .fileNotReadable(path: path, reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }  // shrank while reading: the decoder reports the truncation
            done += n
            // Past the header, its fileSize must agree with the real size before the body is read.
            // (Files read in one go are left to the decoder, which checks the header in order.)
            if done < size, done >= QBinFormat.headerSize, done - n < QBinFormat.headerSize,
               Array(bytes[0..<4]) == QBinFormat.magic {
                let declared = bytes[16..<24].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                if declared != UInt64(size) { try sizeMismatch(declared, size) }
            }
        }
        return done == size ? bytes : Array(bytes[0..<done])
    }

    private static func sizeMismatch(_ declared: UInt64, _ size: Int) throws(QBinError) {
        if declared > UInt64(size) {
            throw .truncated(section: "file", offset: size, needed: Int(clamping: declared) - size, available: 0)
        }
        throw .invalidEncoding(section: "header", offset: 16, reason: "fileSize is \(declared) but the file has \(size) bytes (trailing garbage)")
    }
}

/// `read(2)` (the name `read` is taken by `QBinReader.read(path:)` inside the enum).
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, buffer, count)
    #else
    return Darwin.read(fd, buffer, count)
    #endif
}
