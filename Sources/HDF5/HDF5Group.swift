import CHDF5

/// A group: opens and creates child groups and datasets. Names are relative to the group and may
/// contain `/` ("model_weights/conv2d"); a name starting with `/` is taken from the file's root.
public final class HDF5Group: HDF5Object, @unchecked Sendable {
    /// Opens the child group `name`.
    public func group(_ name: String) throws(HDF5Error) -> HDF5Group {
        H5Library.enter(); defer { H5Library.leave() }
        try requireChild(name)
        let child = H5Gopen2(id, name, qc_h5p_default())
        guard child >= 0 else {
            let detail = H5Library.errorText()
            throw .readFailed(path: path, object: fullName(name), detail: isDataset(name) ? "it is a dataset, not a group" : detail)
        }
        return HDF5Group(file: file, id: child, name: fullName(name))
    }

    /// Opens the child dataset `name`, reading its shape and element type.
    public func dataset(_ name: String) throws(HDF5Error) -> HDF5Dataset {
        H5Library.enter(); defer { H5Library.leave() }
        try requireChild(name)
        let child = H5Dopen2(id, name, qc_h5p_default())
        guard child >= 0 else {
            let detail = H5Library.errorText()
            throw .readFailed(path: path, object: fullName(name), detail: isDataset(name) ? detail : "it is a group, not a dataset")
        }
        return try HDF5Dataset(file: file, id: child, name: fullName(name))
    }

    /// True when `name` exists below this group (or is "/"). Never fails: a missing parent ("a/b"
    /// with no "a"), a dataset in the middle of the path or an empty name all answer false.
    public func contains(_ name: String) -> Bool {
        H5Library.enter(); defer { H5Library.leave() }
        return containsLocked(name)
    }

    /// The names of the direct children (groups, datasets, links), in byte-wise name order.
    public func childNames() throws(HDF5Error) -> [String] {
        H5Library.enter(); defer { H5Library.leave() }
        var info = H5G_info_t()
        guard H5Gget_info(id, &info) >= 0 else {
            throw .readFailed(path: path, object: name, detail: H5Library.errorText())
        }
        var names: [String] = []
        names.reserveCapacity(Int(info.nlinks))
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, qc_h5p_default())
            guard length >= 0 else {
                throw .readFailed(path: path, object: name, detail: H5Library.errorText())
            }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            guard H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &buffer, buffer.count, qc_h5p_default()) >= 0 else {
                throw .readFailed(path: path, object: name, detail: H5Library.errorText())
            }
            names.append(decodeCString(buffer))
        }
        return names
    }

    /// Creates the group `name`, and any missing groups above it.
    public func createGroup(_ name: String) throws(HDF5Error) -> HDF5Group {
        H5Library.enter(); defer { H5Library.leave() }
        try requireWritable(fullName(name))
        let linkProperties = try intermediateGroupsList(for: name)
        defer { close(linkProperties, H5Pclose) }
        let child = H5Gcreate2(id, name, linkProperties, qc_h5p_default(), qc_h5p_default())
        guard child >= 0 else { throw .writeFailed(path: path, object: fullName(name), detail: H5Library.errorText()) }
        let group = HDF5Group(file: file, id: child, name: fullName(name))
        try file.flushLocked()
        return group
    }

    /// Creates a dataset of `shape` and element `type`, filled with zeros, and any missing
    /// groups above it. Rows are along axis 0. `chunkRows` (rows per chunk), `gzipLevel` (0...9)
    /// and `shuffle` make it chunked; gzip or shuffle without `chunkRows` picks about 1 MiB chunks.
    /// A dataset with a zero dimension, or a scalar (`shape == []`), is always contiguous.
    public func createDataset(_ name: String, shape: [Int], type: HDF5ScalarType, chunkRows: Int? = nil,
                              gzipLevel: Int? = nil, shuffle: Bool = false) throws(HDF5Error) -> HDF5Dataset {
        H5Library.enter(); defer { H5Library.leave() }
        let object = fullName(name)
        try requireWritable(object)
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw .writeFailed(path: path, object: object, detail: "shape \(shape) has a negative dimension")
        }
        if let gzipLevel, !(0...9).contains(gzipLevel) {
            throw .writeFailed(path: path, object: object, detail: "gzip level \(gzipLevel) is outside 0...9")
        }
        if let chunkRows, chunkRows < 1 {
            throw .writeFailed(path: path, object: object, detail: "chunkRows \(chunkRows) must be at least 1")
        }
        var dims = shape.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(dims.count), &dims, nil)
        guard space >= 0 else { throw .writeFailed(path: path, object: object, detail: H5Library.errorText()) }
        defer { close(space, H5Sclose) }
        let creation = H5Pcreate(qc_h5p_dataset_create())
        guard creation >= 0 else { throw .writeFailed(path: path, object: object, detail: H5Library.errorText()) }
        defer { close(creation, H5Pclose) }
        // No creation / modification times in the object header: the same data gives the same bytes.
        guard H5Pset_obj_track_times(creation, false) >= 0 else {
            throw .writeFailed(path: path, object: object, detail: H5Library.errorText())
        }

        let wantsChunks = chunkRows != nil || gzipLevel != nil || shuffle
        if wantsChunks && !shape.isEmpty && !shape.contains(0) {
            let rowBytes = shape.dropFirst().reduce(type.size, *)
            let rows = min(shape[0], max(1, chunkRows ?? (1 << 20) / max(1, rowBytes)))
            var chunk = [hsize_t(rows)] + shape.dropFirst().map { hsize_t($0) }
            var ok = H5Pset_chunk(creation, Int32(chunk.count), &chunk) >= 0
            if ok && shuffle { ok = H5Pset_shuffle(creation) >= 0 }
            if ok, let gzipLevel {
                guard H5Zfilter_avail(qc_h5z_filter_deflate()) > 0 else {
                    throw .writeFailed(path: path, object: object, detail: "this libhdf5 was built without gzip (deflate)")
                }
                ok = H5Pset_deflate(creation, UInt32(gzipLevel)) >= 0
            }
            guard ok else { throw .writeFailed(path: path, object: object, detail: H5Library.errorText()) }
        }

        let linkProperties = try intermediateGroupsList(for: name)
        defer { close(linkProperties, H5Pclose) }
        let child = H5Dcreate2(id, name, type.fileType, space, linkProperties, creation, qc_h5p_default())
        guard child >= 0 else { throw .writeFailed(path: path, object: object, detail: H5Library.errorText()) }
        return try HDF5Dataset(file: file, id: child, name: object)
    }

    /// Writes a whole float32 dataset at once (contiguous); `floats.count` must equal the
    /// product of `shape`.
    public func writeDataset(_ name: String, shape: [Int], floats: [Float]) throws(HDF5Error) {
        try writeWhole(name, shape: shape, type: .float32, count: floats.count) { (dataset) throws(HDF5Error) in
            try floats.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
                try dataset.writeAll(buffer, memoryType: HDF5ScalarType.float32.memoryType)
            }
        }
    }

    /// Writes a whole int32 dataset at once (contiguous); `int32s.count` must equal the
    /// product of `shape`.
    public func writeDataset(_ name: String, shape: [Int], int32s: [Int32]) throws(HDF5Error) {
        try writeWhole(name, shape: shape, type: .int32, count: int32s.count) { (dataset) throws(HDF5Error) in
            try int32s.withUnsafeBufferPointer { (buffer) throws(HDF5Error) in
                try dataset.writeAll(buffer, memoryType: HDF5ScalarType.int32.memoryType)
            }
        }
    }

    // MARK: - Internals (called with the lock held)

    private func writeWhole(_ name: String, shape: [Int], type: HDF5ScalarType, count: Int,
                            _ write: (HDF5Dataset) throws(HDF5Error) -> Void) throws(HDF5Error) {
        H5Library.enter(); defer { H5Library.leave() }
        let expected = shape.reduce(1, *)
        guard count == expected else {
            throw .writeFailed(path: path, object: fullName(name),
                               detail: "shape \(HDF5Error.format(shape)) needs \(expected) values, got \(count)")
        }
        let dataset = try createDataset(name, shape: shape, type: type)
        try write(dataset)
        try file.flushLocked()
    }

    func containsLocked(_ name: String) -> Bool {
        let components = name.split(separator: "/", omittingEmptySubsequences: true)
        guard !components.isEmpty else { return name.hasPrefix("/") }   // "/" is the root
        var prefix = name.hasPrefix("/") ? "/" : ""
        for component in components {
            prefix += (prefix.isEmpty || prefix == "/" ? "" : "/") + component
            // H5Lexists fails (< 0) when a parent is not a group: that is "not there" too.
            guard H5Lexists(id, prefix, qc_h5p_default()) > 0 else { return false }
        }
        // A dangling soft link exists as a link but not as an object.
        return H5Oexists_by_name(id, name, qc_h5p_default()) > 0
    }

    private func requireChild(_ name: String) throws(HDF5Error) {
        guard containsLocked(name) else { throw .objectNotFound(path: path, object: fullName(name)) }
    }

    private func isDataset(_ name: String) -> Bool {
        let object = H5Oopen(id, name, qc_h5p_default())
        guard object >= 0 else { return false }
        defer { _ = H5Oclose(object) }
        return H5Iget_type(object) == H5I_DATASET
    }

    /// A link-creation property list that makes missing parent groups.
    private func intermediateGroupsList(for name: String) throws(HDF5Error) -> hid_t {
        let list = H5Pcreate(qc_h5p_link_create())
        guard list >= 0, H5Pset_create_intermediate_group(list, 1) >= 0 else {
            let detail = H5Library.errorText()
            close(list, H5Pclose)
            throw .writeFailed(path: path, object: fullName(name), detail: detail)
        }
        return list
    }
}

/// Decodes a NUL-terminated C buffer as UTF-8 (invalid bytes become U+FFFD).
func decodeCString(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
