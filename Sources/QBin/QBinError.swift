/// Everything that can go wrong reading or writing a `.qbin` file. Each description is one line that
/// says what, where and what to do.
public enum QBinError: Error, Equatable, CustomStringConvertible {
    case fileNotReadable(path: String, reason: String)
    case fileNotWritable(path: String, reason: String)
    /// The first four bytes are not `QBIN`.
    case badMagic(found: [UInt8])
    case unsupportedVersion(foundMajor: UInt16, foundMinor: UInt16, supportedMajor: UInt16)
    /// `section` is `header` (header + directory) or a section name.
    case checksumMismatch(section: String, expected: UInt32, found: UInt32)
    /// `needed` bytes at absolute or section-relative `offset` run past the `available` bytes.
    case truncated(section: String, offset: Int, needed: Int, available: Int)
    case offsetOutOfRange(section: String, field: String, value: UInt64, limit: UInt64)
    case missingSection(String)
    /// Well-formed bytes that break an encoding rule (reserved field not zero, bad UTF-8, trailing bytes, ...).
    case invalidEncoding(section: String, offset: Int, reason: String)
    case unknownOp(kind: UInt16, opIndex: Int)
    case unknownType(code: UInt8, tensor: String)
    /// A semantic rule of the model (shapes, indices, data sizes, attributes).
    case invalidModel(reason: String)

    public var description: String {
        switch self {
        case .fileNotReadable(let path, let reason):
            return "cannot read '\(path)': \(reason)"
        case .fileNotWritable(let path, let reason):
            return "cannot write '\(path)': \(reason); check the directory exists and is writable"
        case .badMagic(let found):
            let hex = found.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            return "not a .qbin file: magic bytes are [\(hex)], expected 'QBIN' (51 42 49 4E)"
        case .unsupportedVersion(let major, let minor, let supported):
            return "qbin version \(major).\(minor) is newer than this reader (major \(supported)); use a newer qconvert"
        case .checksumMismatch(let section, let expected, let found):
            return "CRC-32 mismatch in \(section) section: stored \(hex(expected)), computed \(hex(found)); the file is corrupted, regenerate it"
        case .truncated(let section, let offset, let needed, let available):
            return "truncated \(section): \(needed) bytes needed at offset \(offset), only \(available) available; the file is incomplete or corrupted"
        case .offsetOutOfRange(let section, let field, let value, let limit):
            return "\(section): \(field) = \(value) is out of range (limit \(limit)); the file is corrupted"
        case .missingSection(let name):
            return "required section \(name) is missing; the file is incomplete or was not written by a qbin writer"
        case .invalidEncoding(let section, let offset, let reason):
            return "invalid encoding in \(section) at offset \(offset): \(reason)"
        case .unknownOp(let kind, let index):
            return "op \(index) has unknown kind \(kind); the file needs a newer qconvert"
        case .unknownType(let code, let tensor):
            return "tensor '\(tensor)' has unknown element type code 0x\(String(code, radix: 16)); the file needs a newer qconvert"
        case .invalidModel(let reason):
            return "invalid quantized model: \(reason)"
        }
    }

    private func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - s.count) + s
    }
}
