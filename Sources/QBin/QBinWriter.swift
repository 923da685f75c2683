#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encodes a `QModel` into `.qbin` bytes and writes files atomically (`docs/qbin-format.md`).
/// Deterministic: the same model always gives the same bytes.
public enum QBinWriter {
    /// The file bytes of `model`, after `model.validate()` and the check that it records its rounding
    /// profile (required since format 1.1).
    public static func encode(_ model: QModel) throws(QBinError) -> [UInt8] {
        try model.validate()
        try model.validateRounding(required: true)
        let (data, blobOffsets) = encodeData(model)
        let sections: [(QBinFormat.Section, [UInt8])] = [
            (.metadata, encodeMetadata(model)),
            (.tensors, encodeTensors(model, blobOffsets: blobOffsets)),
            (.ops, encodeOps(model)),
            (.data, data),
        ]
        return assemble(sections.map { ($0.0.rawValue, $0.1) })
    }

    /// Writes `model` to `path` through `<path>.tmp-<pid>` and a rename; the temporary file is removed on error.
    public static func write(_ model: QModel, to path: String) throws(QBinError) {
        let bytes = try encode(model)
        let tmp = "\(path).tmp-\(getpid())"
        guard let file = fopen(tmp, "wb") else {
            throw .fileNotWritable(path: tmp, reason: String(cString: strerror(errno)))
        }
        let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        let closed = fclose(file) == 0
        guard written == bytes.count, flushed, closed else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw .fileNotWritable(path: tmp, reason: "wrote \(written) of \(bytes.count) bytes: \(reason)")
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw .fileNotWritable(path: path, reason: "rename from temporary file failed: \(reason)")
        }
    }

    /// Header, directory and the sections at aligned offsets. Section types are raw so tests can
    /// build files with unknown sections.
    static func assemble(_ sections: [(type: UInt32, bytes: [UInt8])]) -> [UInt8] {
        var offsets: [Int] = []
        var position = QBinFormat.aligned(QBinFormat.headerSize + sections.count * QBinFormat.directoryEntrySize)
        for (i, s) in sections.enumerated() {
            offsets.append(position)
            position += s.bytes.count
            if i < sections.count - 1 { position = QBinFormat.aligned(position) }
        }
        var w = ByteWriter()
        w.bytes += QBinFormat.magic
        w.u16(QBinFormat.versionMajor)
        w.u16(QBinFormat.versionMinor)
        w.u32(0)  // flags
        w.u32(UInt32(sections.count))
        w.u64(UInt64(position))
        w.u32(0)  // header CRC, patched below
        w.u32(0)  // reserved
        for (s, offset) in zip(sections, offsets) {
            w.u32(s.type)
            w.u32(qbinCRC32(s.bytes, 0..<s.bytes.count))
            w.u64(UInt64(offset))
            w.u64(UInt64(s.bytes.count))
        }
        let directoryEnd = w.bytes.count
        for (s, offset) in zip(sections, offsets) {
            while w.bytes.count < offset { w.u8(0) }
            w.bytes += s.bytes
        }
        let crc = qbinCRC32(w.bytes, 0..<24)
        let headerCRC = qbinCRC32(w.bytes, QBinFormat.headerSize..<directoryEnd, initial: crc)
        for k in 0..<4 { w.bytes[24 + k] = UInt8(truncatingIfNeeded: headerCRC >> (8 * k)) }
        return w.bytes
    }

    static func encodeMetadata(_ model: QModel) -> [UInt8] {
        var w = ByteWriter()
        w.count(model.metadata.count)
        for entry in model.metadata {
            w.string(entry.key)
            w.string(entry.value)
        }
        return w.bytes
    }

    /// The DATA section and each constant's offset in it.
    static func encodeData(_ model: QModel) -> ([UInt8], [Int?]) {
        var w = ByteWriter()
        var offsets: [Int?] = []
        for t in model.tensors {
            guard let data = t.data else { offsets.append(nil); continue }
            w.padToAlignment(QBinFormat.alignment)
            offsets.append(w.bytes.count)
            w.bytes += data
        }
        return (w.bytes, offsets)
    }

    static func encodeTensors(_ model: QModel, blobOffsets: [Int?]) -> [UInt8] {
        var w = ByteWriter()
        w.count(model.tensors.count)
        for (t, offset) in zip(model.tensors, blobOffsets) {
            w.string(t.name)
            w.u8(t.type.code)
            w.u8(t.data == nil ? 0 : 1)
            w.u8(UInt8(t.shape.count))
            w.u8(0)
            for d in t.shape { w.u32(UInt32(d)) }
            w.i32(Int32(t.quantAxis ?? -1))
            w.count(t.scales.count)
            for s in t.scales { w.f32(s) }
            for z in t.zeroPoints { w.i32(z) }
            w.u64(UInt64(offset ?? 0))
            w.u64(UInt64(t.data?.count ?? 0))
        }
        return w.bytes
    }

    static func encodeOps(_ model: QModel) -> [UInt8] {
        var w = ByteWriter()
        w.count(model.ops.count)
        for op in model.ops {
            w.u16(op.kind.rawValue)
            w.u16(0)
            w.string(op.name)
            w.count(op.inputs.count)
            op.inputs.forEach { w.index($0) }
            w.count(op.outputs.count)
            op.outputs.forEach { w.index($0) }
            w.count(op.attributes.count)
            for a in op.attributes {
                w.string(a.key)
                w.count(a.values.count)
                a.values.forEach { w.i32($0) }
            }
        }
        w.count(model.inputs.count)
        model.inputs.forEach { w.index($0) }
        w.count(model.outputs.count)
        model.outputs.forEach { w.index($0) }
        return w.bytes
    }
}
