import CHDF5
import Foundation

/// A dataset. Reads convert any stored integer or float type to the requested one inside HDF5
/// (chunked, gzip and shuffle datasets included) and go straight into the destination memory.
/// Row reads and writes select a hyperslab along axis 0.
public final class HDF5Dataset: HDF5Object, @unchecked Sendable {
    /// Dimensions, slowest first; `[]` for a scalar dataset.
    public let shape: [Int]
    /// The stored element type; nil for strings, compounds, half floats and other non-scalar types.
    public let scalarType: HDF5ScalarType?
    /// A short name of the stored type, for messages ("float32", "variable-length string").
    public let typeDescription: String
    /// Number of elements (the product of `shape`; 1 for a scalar).
    public let count: Int
    /// Elements per row along axis 0 (the product of the other dimensions).
    public let rowSize: Int
    private let isNumericType: Bool

    init(file: HDF5File, id: hid_t, name: String) throws(HDF5Error) {
        let space = H5Dget_space(id)
        let type = H5Dget_type(id)
        defer { close(space, H5Sclose); close(type, H5Tclose) }
        guard space >= 0, type >= 0 else {
            let detail = H5Library.errorText()
            _ = H5Dclose(id)
            throw .readFailed(path: file.path, object: name, detail: detail)
        }
        let rank = H5Sget_simple_extent_ndims(space)
        var dims = [hsize_t](repeating: 0, count: Int(max(rank, 0)))
        guard rank >= 0, H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else {
            let detail = H5Library.errorText()
            _ = H5Dclose(id)
            throw .readFailed(path: file.path, object: name, detail: detail)
        }
        // Sizes come from the file: a damaged or hostile header must not trap on overflow.
        var product = 1, overflow = false
        var checkedShape: [Int] = []
        for dim in dims {
            let size = Int(exactly: dim) ?? Int.max
            checkedShape.append(size)
            let (next, over) = product.multipliedReportingOverflow(by: size)
            product = next
            overflow = overflow || over || size == Int.max
        }
        guard !overflow else {
            _ = H5Dclose(id)
            throw .readFailed(path: file.path, object: name, detail: "its dimensions \(dims) overflow a 64-bit element count")
        }
        shape = checkedShape
        count = product
        rowSize = checkedShape.isEmpty ? 1 : checkedShape.dropFirst().reduce(1, *)
        scalarType = HDF5ScalarType(datatype: type)
        typeDescription = describeDatatype(type)
        isNumericType = isNumeric(type)
        super.init(file: file, id: id, name: name)
    }

    /// The most bytes a whole-dataset read may allocate (the memory budget; set once by the CLI).
    nonisolated(unsafe) public static var maxWholeReadBytes = Int.max

    /// Bytes the dataset occupies in the file (`H5Dget_storage_size`): less than `count` times the
    /// element size when it is compressed or sparse (chunks never written read as the fill value).
    public var storageBytes: Int {
        H5Library.enter(); defer { H5Library.leave() }
        return Int(clamping: H5Dget_storage_size(id))
    }

    // MARK: - Whole-dataset reads

    public func readFloats() throws(HDF5Error) -> [Float] { try readAll(qc_h5t_native_float()) }
    public func readDoubles() throws(HDF5Error) -> [Double] { try readAll(qc_h5t_native_double()) }
    public func readInt32s() throws(HDF5Error) -> [Int32] { try readAll(qc_h5t_native_int32()) }
    public func readInt64s() throws(HDF5Error) -> [Int64] { try readAll(qc_h5t_native_int64()) }

    // MARK: - Row (hyperslab) reads and writes

    /// Reads rows `rows` (along axis 0) into `buffer`, which must hold exactly
    /// `rows.count * rowSize` floats.
    public func readFloats(rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws(HDF5Error) {
        try transferRows(rows, pointer: UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count,
                         memoryType: qc_h5t_native_float(), writing: false)
    }

    /// Writes `buffer` (exactly `rows.count * rowSize` floats) to rows `rows`.
    public func writeFloats(rows: Range<Int>, from buffer: UnsafeBufferPointer<Float>) throws(HDF5Error) {
        try transferRows(rows, pointer: UnsafeMutableRawPointer(mutating: buffer.baseAddress), count: buffer.count,
                         memoryType: qc_h5t_native_float(), writing: true)
    }

    /// Writes `buffer` (exactly `rows.count * rowSize` doubles) to rows `rows`.
    public func writeDoubles(rows: Range<Int>, from buffer: UnsafeBufferPointer<Double>) throws(HDF5Error) {
        try transferRows(rows, pointer: UnsafeMutableRawPointer(mutating: buffer.baseAddress), count: buffer.count,
                         memoryType: qc_h5t_native_double(), writing: true)
    }

    /// Writes `buffer` (exactly `rows.count * rowSize` int32 values) to rows `rows`.
    public func writeInt32s(rows: Range<Int>, from buffer: UnsafeBufferPointer<Int32>) throws(HDF5Error) {
        try transferRows(rows, pointer: UnsafeMutableRawPointer(mutating: buffer.baseAddress), count: buffer.count,
                         memoryType: qc_h5t_native_int32(), writing: true)
    }

    // MARK: - Internals

    private func readAll<Element>(_ memoryType: hid_t) throws(HDF5Error) -> [Element] {
        H5Library.enter(); defer { H5Library.leave() }
        try requireNumeric()
        let count = self.count
        guard count > 0 else { return [] }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<Element>.stride)
        guard !overflow, UInt64(bytes) <= ProcessInfo.processInfo.physicalMemory else {
            throw .readFailed(path: path, object: name,
                              detail: "\(count) elements need more memory than this machine has; read it in rows instead")
        }
        // Checked from the declared shape before anything is allocated or decompressed (a gzip bomb).
        guard bytes <= Self.maxWholeReadBytes else {
            throw .readFailed(path: path, object: name,
                              detail: "its shape \(shape) needs \(bytes) bytes, more than the memory budget of \(Self.maxWholeReadBytes) bytes (--max-memory)")
        }
        var failure: String?
        let values = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            if H5Dread(id, memoryType, qc_h5s_all(), qc_h5s_all(), qc_h5p_default(), buffer.baseAddress) < 0 {
                failure = H5Library.errorText()
                initialized = 0
            } else {
                initialized = count
            }
        }
        if let failure { throw .readFailed(path: path, object: name, detail: failure) }
        return values
    }

    /// Writes the whole dataset from `buffer` (its count already checked by the caller).
    func writeAll<Element>(_ buffer: UnsafeBufferPointer<Element>, memoryType: hid_t) throws(HDF5Error) {
        H5Library.enter(); defer { H5Library.leave() }
        guard buffer.count > 0 else { return }
        if H5Dwrite(id, memoryType, qc_h5s_all(), qc_h5s_all(), qc_h5p_default(), buffer.baseAddress) < 0 {
            throw .writeFailed(path: path, object: name, detail: H5Library.errorText())
        }
    }

    private func requireNumeric() throws(HDF5Error) {
        guard isNumericType else { throw .unsupportedType(path: path, object: name, type: typeDescription) }
    }

    private func transferRows(_ rows: Range<Int>, pointer: UnsafeMutableRawPointer?, count: Int,
                              memoryType: hid_t, writing: Bool) throws(HDF5Error) {
        H5Library.enter(); defer { H5Library.leave() }
        func fail(_ detail: String) -> HDF5Error {
            writing ? .writeFailed(path: path, object: name, detail: detail)
                    : .readFailed(path: path, object: name, detail: detail)
        }
        try requireNumeric()
        if writing { try requireWritable(name) }
        guard let total = shape.first else { throw fail("it is a scalar; rows need at least one dimension") }
        guard rows.lowerBound >= 0, rows.upperBound <= total else {
            throw fail("rows \(rows.lowerBound)..<\(rows.upperBound) are outside 0..<\(total)")
        }
        let needed = rows.count * rowSize
        guard count == needed else {
            throw fail("the buffer holds \(count) values but rows \(rows.lowerBound)..<\(rows.upperBound) "
                       + "need \(needed) (\(rows.count) x \(rowSize))")
        }
        guard needed > 0, let pointer else { return }

        let fileSpace = H5Dget_space(id)
        guard fileSpace >= 0 else { throw fail(H5Library.errorText()) }
        defer { close(fileSpace, H5Sclose) }
        var start = [hsize_t](repeating: 0, count: shape.count)
        start[0] = hsize_t(rows.lowerBound)
        var extent = shape.map { hsize_t($0) }
        extent[0] = hsize_t(rows.count)
        guard H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &extent, nil) >= 0 else {
            throw fail(H5Library.errorText())
        }
        let memorySpace = H5Screate_simple(Int32(extent.count), &extent, nil)
        guard memorySpace >= 0 else { throw fail(H5Library.errorText()) }
        defer { close(memorySpace, H5Sclose) }
        let status = writing
            ? H5Dwrite(id, memoryType, memorySpace, fileSpace, qc_h5p_default(), pointer)
            : H5Dread(id, memoryType, memorySpace, fileSpace, qc_h5p_default(), pointer)
        guard status >= 0 else { throw fail(H5Library.errorText()) }
    }
}
