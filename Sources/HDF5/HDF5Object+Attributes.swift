import CHDF5
import Foundation

/// String attributes on groups and datasets, as Keras and h5py write them: scalar or 1-D,
/// fixed-length (NUL- or space-padded) or variable-length, ASCII or UTF-8, and for `model_config`
/// sometimes raw bytes. Strings are written back as variable-length UTF-8 (h5py's default for `str`).
extension HDF5Object {
    public func hasAttribute(_ name: String) -> Bool {
        H5Library.enter(); defer { H5Library.leave() }
        return !name.isEmpty && H5Aexists(id, name) > 0
    }

    /// Attribute names in byte-wise name order.
    public func attributeNames() throws(HDF5Error) -> [String] {
        H5Library.enter(); defer { H5Library.leave() }
        final class Names { var list: [String] = [] }
        let names = Names()
        var index: hsize_t = 0
        let status = withExtendedLifetime(names) {
            H5Aiterate2(id, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, context in
                guard let name, let context else { return 0 }
                Unmanaged<Names>.fromOpaque(context).takeUnretainedValue().list.append(String(cString: name))
                return 0
            }, Unmanaged.passUnretained(names).toOpaque())
        }
        guard status >= 0 else { throw .readFailed(path: path, object: "the attributes of \(self.name)", detail: H5Library.errorText()) }
        return names.list
    }

    /// A single string: a scalar or one-element string attribute, or 8-bit integers holding UTF-8.
    public func stringAttribute(_ name: String) throws(HDF5Error) -> String {
        H5Library.enter(); defer { H5Library.leave() }
        let object = attributeObject(name)
        return try withAttribute(name) { (attribute, type, space) throws(HDF5Error) in
            if isNumeric(type), H5Tget_size(type) == 1 {
                let bytes: [UInt8] = try readNumeric(attribute, memoryType: qc_h5t_native_uint8(), space: space, object: object)
                return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard H5Tget_class(type) == H5T_STRING else {
                throw .unsupportedType(path: path, object: object, type: describeDatatype(type))
            }
            let strings = try readStrings(attribute, type: type, space: space, object: object)
            guard strings.count == 1 else {
                throw .shapeMismatch(path: path, object: object, expected: [1], found: [strings.count])
            }
            return strings[0]
        }
    }

    /// A list of strings (scalar strings give one element). An empty numeric attribute gives
    /// `[]`: Keras writes `weight_names` as an empty float64 array for layers without weights.
    public func stringArrayAttribute(_ name: String) throws(HDF5Error) -> [String] {
        H5Library.enter(); defer { H5Library.leave() }
        let object = attributeObject(name)
        return try withAttribute(name) { (attribute, type, space) throws(HDF5Error) in
            if isNumeric(type), H5Sget_simple_extent_npoints(space) == 0 { return [] }
            guard H5Tget_class(type) == H5T_STRING else {
                throw .unsupportedType(path: path, object: object, type: describeDatatype(type))
            }
            return try readStrings(attribute, type: type, space: space, object: object)
        }
    }

    /// Numbers of any stored integer or float type, converted by HDF5.
    public func doubleArrayAttribute(_ name: String) throws(HDF5Error) -> [Double] {
        H5Library.enter(); defer { H5Library.leave() }
        let object = attributeObject(name)
        return try withAttribute(name) { (attribute, type, space) throws(HDF5Error) in
            guard isNumeric(type) else { throw .unsupportedType(path: path, object: object, type: describeDatatype(type)) }
            return try readNumeric(attribute, memoryType: qc_h5t_native_double(), space: space, object: object)
        }
    }

    /// Writes a scalar variable-length UTF-8 string, replacing any attribute of that name.
    public func setStringAttribute(_ name: String, _ value: String) throws(HDF5Error) {
        try writeStrings(name, [value], scalar: true)
    }

    /// Writes a 1-D variable-length UTF-8 string array, replacing any attribute of that name.
    public func setStringArrayAttribute(_ name: String, _ values: [String]) throws(HDF5Error) {
        try writeStrings(name, values, scalar: false)
    }

    // MARK: - Internals (called with the lock held)

    private func attributeObject(_ attribute: String) -> String { "attribute '\(attribute)' of \(name)" }

    /// Opens attribute `name` with its type and dataspace, runs `body`, and closes all three.
    private func withAttribute<Result>(_ name: String,
                                       _ body: (hid_t, hid_t, hid_t) throws(HDF5Error) -> Result) throws(HDF5Error) -> Result {
        let object = attributeObject(name)
        guard !name.isEmpty, H5Aexists(id, name) > 0 else { throw .objectNotFound(path: path, object: object) }
        let attribute = H5Aopen(id, name, qc_h5p_default())
        guard attribute >= 0 else { throw .readFailed(path: path, object: object, detail: H5Library.errorText()) }
        defer { close(attribute, H5Aclose) }
        let type = H5Aget_type(attribute)
        guard type >= 0 else { throw .readFailed(path: path, object: object, detail: H5Library.errorText()) }
        defer { close(type, H5Tclose) }
        let space = H5Aget_space(attribute)
        guard space >= 0 else { throw .readFailed(path: path, object: object, detail: H5Library.errorText()) }
        defer { close(space, H5Sclose) }
        return try body(attribute, type, space)
    }

    private func readNumeric<Element>(_ attribute: hid_t, memoryType: hid_t, space: hid_t,
                                      object: String) throws(HDF5Error) -> [Element] {
        let count = Int(max(0, H5Sget_simple_extent_npoints(space)))
        guard count > 0 else { return [] }
        var failure: String?
        let values = [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
            if H5Aread(attribute, memoryType, buffer.baseAddress) < 0 {
                failure = H5Library.errorText()
                initialized = 0
            } else {
                initialized = count
            }
        }
        if let failure { throw .readFailed(path: path, object: object, detail: failure) }
        return values
    }

    private func readStrings(_ attribute: hid_t, type: hid_t, space: hid_t, object: String) throws(HDF5Error) -> [String] {
        let count = Int(max(0, H5Sget_simple_extent_npoints(space)))
        guard count > 0 else { return [] }
        if H5Tis_variable_str(type) > 0 {
            let memoryType = H5Tcopy(qc_h5t_c_s1())
            guard memoryType >= 0 else { throw .readFailed(path: path, object: object, detail: H5Library.errorText()) }
            defer { close(memoryType, H5Tclose) }
            guard H5Tset_size(memoryType, qc_h5t_variable()) >= 0, H5Tset_cset(memoryType, H5Tget_cset(type)) >= 0 else {
                throw .readFailed(path: path, object: object, detail: H5Library.errorText())
            }
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Aread(attribute, memoryType, &pointers) >= 0 else {
                throw .readFailed(path: path, object: object, detail: H5Library.errorText())
            }
            let strings = pointers.map { $0.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) } ?? "" }
            _ = qc_h5_reclaim(memoryType, space, &pointers)
            return strings
        }
        let size = H5Tget_size(type)
        guard size > 0 else { return [String](repeating: "", count: count) }
        let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
        var bytes = [UInt8](repeating: 0, count: count * size)
        guard H5Aread(attribute, type, &bytes) >= 0 else {
            throw .readFailed(path: path, object: object, detail: H5Library.errorText())
        }
        return (0..<count).map { index in
            var element = bytes[index * size..<(index + 1) * size].prefix { $0 != 0 }
            if spacePadded { while element.last == 0x20 { element = element.dropLast() } }
            return String(decoding: element, as: UTF8.self)
        }
    }

    private func writeStrings(_ name: String, _ values: [String], scalar: Bool) throws(HDF5Error) {
        H5Library.enter(); defer { H5Library.leave() }
        let object = attributeObject(name)
        func fail() -> HDF5Error { .writeFailed(path: path, object: object, detail: H5Library.errorText()) }
        guard !name.isEmpty else { throw .writeFailed(path: path, object: object, detail: "an attribute needs a name") }
        try requireWritable(object)
        if H5Aexists(id, name) > 0, H5Adelete(id, name) < 0 { throw fail() }

        let type = H5Tcopy(qc_h5t_c_s1())
        guard type >= 0 else { throw fail() }
        defer { close(type, H5Tclose) }
        guard H5Tset_size(type, qc_h5t_variable()) >= 0, H5Tset_cset(type, H5T_CSET_UTF8) >= 0 else { throw fail() }
        var dims = [hsize_t(values.count)]
        let space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dims, nil)
        guard space >= 0 else { throw fail() }
        defer { close(space, H5Sclose) }
        let attribute = H5Acreate2(id, name, type, space, qc_h5p_default(), qc_h5p_default())
        guard attribute >= 0 else { throw fail() }
        defer { close(attribute, H5Aclose) }

        // Variable-length strings are written from an array of C string pointers.
        var pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        guard pointers.allSatisfy({ $0 != nil }) else {
            throw .writeFailed(path: path, object: object, detail: "out of memory copying \(values.count) strings")
        }
        if !values.isEmpty, H5Awrite(attribute, type, &pointers) < 0 { throw fail() }
        try file.flushLocked()
    }
}
