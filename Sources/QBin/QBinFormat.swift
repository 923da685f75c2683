/// Constants of the file layout (`docs/qbin-format.md`, section 2).
public enum QBinFormat {
    public static let magic: [UInt8] = Array("QBIN".utf8)
    public static let versionMajor: UInt16 = 1
    public static let versionMinor: UInt16 = 1
    public static let headerSize = 32
    public static let directoryEntrySize = 24
    /// Sections and data blobs start at multiples of this.
    public static let alignment = 32
    public static let maxSections = 64
    public static let maxRank = 8
    /// Largest element count of one tensor (2^40).
    public static let maxElements = 1 << 40

    /// Section types; numbers are never reused.
    public enum Section: UInt32, CaseIterable, Sendable {
        case metadata = 1
        case tensors = 2
        case ops = 3
        case data = 4

        public var name: String {
            switch self {
            case .metadata: return "METADATA"
            case .tensors: return "TENSORS"
            case .ops: return "OPS"
            case .data: return "DATA"
            }
        }
    }

    static func aligned(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}
