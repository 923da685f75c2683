import CHDF5

/// Numeric attributes written the way h5py reads them back as numbers: one value is a scalar
/// attribute, several a 1-D array. Read them with `doubleArrayAttribute(_:)`.
extension HDF5Object {
    /// Writes float32 `values` (little-endian), replacing any attribute of that name.
    public func setFloatAttribute(_ name: String, _ values: [Float]) throws(HDF5Error) {
        try values.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try writeNumeric(name, UnsafeRawPointer(buffer.baseAddress), count: buffer.count, type: .float32)
        }
    }

    /// Writes int32 `values` (little-endian), replacing any attribute of that name.
    public func setInt32Attribute(_ name: String, _ values: [Int32]) throws(HDF5Error) {
        try values.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
            try writeNumeric(name, UnsafeRawPointer(buffer.baseAddress), count: buffer.count, type: .int32)
        }
    }

    private func writeNumeric(_ name: String, _ pointer: UnsafeRawPointer?, count: Int,
                              type: HDF5ScalarType) throws(HDF5Error) {
        H5Library.enter(); defer { H5Library.leave() }
        let object = "attribute '\(name)' of \(self.name)"
        func fail(_ detail: String = H5Library.errorText()) -> HDF5Error {
            .writeFailed(path: path, object: object, detail: detail)
        }
        guard !name.isEmpty else { throw fail("an attribute needs a name") }
        guard count > 0, let pointer else { throw fail("an attribute needs at least one value") }
        try requireWritable(object)
        if H5Aexists(id, name) > 0, H5Adelete(id, name) < 0 { throw fail() }

        var dims = [hsize_t(count)]
        let space = count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        guard space >= 0 else { throw fail() }
        defer { close(space, H5Sclose) }
        let attribute = H5Acreate2(id, name, type.fileType, space, qc_h5p_default(), qc_h5p_default())
        guard attribute >= 0 else { throw fail() }
        defer { close(attribute, H5Aclose) }
        guard H5Awrite(attribute, type.memoryType, pointer) >= 0 else { throw fail() }
        try file.flushLocked()
    }
}
