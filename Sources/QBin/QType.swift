/// An element type of a `.qbin` tensor: the one registry from which every size is computed.
///
/// The raw value is the on-disk code (`docs/qbin-format.md`, section 4.1): `(signed ? 0x10 : 0) | bits`
/// for the packed types, `0x20` for int32. Codes are never renumbered; a retired type keeps its code.
public struct QType: Sendable, Hashable, CustomStringConvertible {
    /// Bits per stored value: 2 ... 8, or 32.
    public let bits: Int
    public let isSigned: Bool

    private init(bits: Int, isSigned: Bool) { self.bits = bits; self.isSigned = isSigned }

    /// The registry: every type the format knows, in code order.
    public static let all: [QType] =
        (2...8).map { QType(bits: $0, isSigned: false) } + (2...8).map { QType(bits: $0, isSigned: true) }
        + [QType(bits: 32, isSigned: true)]

    /// A packed unsigned type (activations after ReLU); nil unless `bits` is 2 ... 8.
    public static func unsigned(_ bits: Int) -> QType? { (2...8).contains(bits) ? QType(bits: bits, isSigned: false) : nil }
    /// A packed signed two's complement type (weights); nil unless `bits` is 2 ... 8.
    public static func signed(_ bits: Int) -> QType? { (2...8).contains(bits) ? QType(bits: bits, isSigned: true) : nil }
    /// Plain little-endian int32 (biases at scale `s_in * s_w[c]`).
    public static let int32 = QType(bits: 32, isSigned: true)

    /// The on-disk code.
    public var code: UInt8 { bits == 32 ? 0x20 : UInt8((isSigned ? 0x10 : 0) | bits) }

    /// The type with on-disk code `code`, or nil when the registry has none.
    public init?(code: UInt8) {
        guard let t = QType.all.first(where: { $0.code == code }) else { return nil }
        self = t
    }

    /// Smallest storable value: `-2^(b-1)` signed, 0 unsigned.
    public var minValue: Int64 { isSigned ? -(Int64(1) << (bits - 1)) : 0 }
    /// Largest storable value: `2^(b-1) - 1` signed, `2^b - 1` unsigned.
    public var maxValue: Int64 { isSigned ? (Int64(1) << (bits - 1)) - 1 : (Int64(1) << bits) - 1 }

    /// Bytes of one row of `rowLength` values: `ceil(rowLength * bits / 8)` (rows padded to a whole byte).
    /// 8 values of 4 bits in 4 bytes; 8 values of 3 bits in 3 bytes; int32 4 bytes each.
    public func bytesPerRow(_ rowLength: Int) -> Int { (rowLength * bits + 7) / 8 }

    /// Rows and row length of a tensor of `shape`: `rows = shape[0]`, `rowLength = product(shape[1...])`;
    /// rank 0 or 1 is a single row.
    public static func rowsAndLength(of shape: [Int]) -> (rows: Int, rowLength: Int) {
        if shape.count <= 1 { return (1, shape.first ?? 1) }
        return (shape[0], shape.dropFirst().reduce(1, *))
    }

    /// Bytes of a packed tensor of `shape`, or nil when the size overflows `Int`.
    public func packedSize(shape: [Int]) -> Int? {
        var count = 1
        for d in shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, d >= 0 else { return nil }
            count = p
        }
        let (rows, rowLength) = QType.rowsAndLength(of: shape)
        let (rowBits, o1) = rowLength.multipliedReportingOverflow(by: bits)
        guard !o1, rowBits <= Int.max - 7 else { return nil }
        let (size, o2) = rows.multipliedReportingOverflow(by: (rowBits + 7) / 8)
        return o2 ? nil : size
    }

    /// `u4`, `s8`, `i32`.
    public var description: String { bits == 32 ? "i32" : "\(isSigned ? "s" : "u")\(bits)" }
}
