import Foundation

/// A pre-read check for a libhdf5 1.10 hang and crash found by fuzzing (docs/robustness.md, "Fuzzing").
///
/// Variable-length strings (Keras' `weight_names`, `layer_names`) live in global heap collections
/// ("GCOL" blocks). When libhdf5 1.10 loads a collection it walks the objects with
/// `p = begin + need`, where `need` is the object's size for the free-space object (index 0): an
/// index-0 object of size 0 never advances `p`, and `H5HG_read` loops forever; an object whose size
/// runs past the collection's end is only asserted against, and `H5HG_read` later copies that many
/// bytes (a crash). This check walks every collection the same way and refuses either, before libhdf5
/// sees the file.
///
/// Collections are found by their signature, "GCOL" then version 1 and three zero bytes, anywhere in
/// the file; a false match inside weight data would also need a plausible collection size and an
/// exactly stalled walk or an object past its end. Lengths are taken as 8 bytes (the default, and what h5py / Keras write).
/// `QCONVERT_HDF5_HEAP_CHECK=0` turns the check off (for a false match; the CLI's isolated read still
/// stops a hang).
public enum HDF5GlobalHeapCheck {
    static let enabled = ProcessInfo.processInfo.environment["QCONVERT_HDF5_HEAP_CHECK"] != "0"

    /// What is wrong with a collection that libhdf5 1.10 cannot survive.
    public enum Damage: Equatable, Sendable {
        /// An index-0 object of size 0: the walk never advances (`H5HG_read` loops forever).
        case stalls
        /// An object whose size runs past the end of its collection: libhdf5 only asserts this (compiled
        /// out in release builds) and later copies that many bytes (`H5HG_read`'s memcpy: a crash).
        case objectPastEnd(index: UInt16, size: UInt64)
    }

    /// Returns the byte offset of the first collection whose walk stalls, or nil.
    public static func stalledCollection(in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let (at, damage) = damagedCollection(in: bytes), damage == .stalls else { return nil }
        return at
    }

    /// The byte offset and damage of the first damaged collection, or nil.
    public static func damagedCollection(in bytes: UnsafeRawBufferPointer) -> (offset: Int, damage: Damage)? {
        let n = bytes.count
        guard n >= 16, let base = bytes.baseAddress else { return nil }
        let signature: [UInt8] = [0x47, 0x43, 0x4F, 0x4C, 0x01, 0x00, 0x00, 0x00]  // "GCOL", version 1, reserved
        var start = 0
        while start + 16 <= n {
            guard let hit = memchr(base + start, 0x47, n - start) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(hit))
            start = at + 1
            guard at + 16 <= n else { return nil }
            guard memcmp(base + at, signature, signature.count) == 0 else { continue }
            let size = Int(clamping: bytes.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self).littleEndian)
            // A collection holds at least its header and one object header; libhdf5 reads `size` bytes.
            guard size >= 32, size <= n - at else { continue }
            if let damage = walk(bytes, collection: at, size: size) { return (at, damage) }
        }
        return nil
    }

    /// Walks one collection the way libhdf5 1.10's `H5HG__cache_heap_deserialize` does.
    static func walk(_ bytes: UnsafeRawBufferPointer, collection at: Int, size: Int) -> Damage? {
        let end = at + size
        var p = at + 16
        var steps = 0
        while p < end {
            if p + 16 > end { return nil }  // the rest is free space
            let index = bytes.loadUnaligned(fromByteOffset: p, as: UInt16.self).littleEndian
            let objectSize = bytes.loadUnaligned(fromByteOffset: p + 8, as: UInt64.self).littleEndian
            let need: UInt64
            if index > 0 {
                let (aligned, over) = objectSize.addingReportingOverflow(7)
                if over { return .objectPastEnd(index: index, size: objectSize) }
                need = 16 &+ (aligned & ~7)
            } else {
                need = objectSize
            }
            if need == 0 { return .stalls }
            guard need <= UInt64(end - p) else {
                // The free-space object (index 0) may run to the end; any other object must fit.
                return index > 0 ? .objectPastEnd(index: index, size: objectSize) : nil
            }
            p += Int(need)
            steps += 1
            if steps > size { return .stalls }
        }
        return nil
    }

    /// Checks a file on disk (mapped, not read into memory); throws `openFailed` naming the offset.
    public static func check(path: String) throws(HDF5Error) {
        guard enabled else { return }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch { return }
        try check(data, name: path)
    }

    /// Checks a file image in memory (a `.keras` archive's `model.weights.h5`).
    public static func check(_ data: Data, name: String) throws(HDF5Error) {
        guard enabled else { return }
        guard let (offset, damage) = data.withUnsafeBytes({ damagedCollection(in: $0) }) else { return }
        switch damage {
        case .stalls:
            throw .openFailed(path: name, detail: "its global heap collection at byte \(offset) holds an object of size 0, "
                              + "on which libhdf5 1.10 loops forever; the file is damaged or crafted (re-save it with Keras)")
        case .objectPastEnd(let index, let size):
            throw .openFailed(path: name, detail: "its global heap collection at byte \(offset) holds object \(index) of \(size) bytes, "
                              + "past the collection's end, which libhdf5 1.10 would copy out of bounds; the file is damaged or crafted "
                              + "(re-save it with Keras)")
        }
    }
}
