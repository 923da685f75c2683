import Foundation
import ZIPFoundation

/// The members of a Keras 3 `.keras` file (a zip: `metadata.json`, `config.json`,
/// `model.weights.h5`, optional `assets/`), read into memory with every size bounded first.
///
/// Nothing is extracted to disk: the weights are handed to libhdf5 as an in-memory image.
struct KerasArchive {
    /// `config.json`: the same JSON as `model.to_json()`.
    var config: String
    /// `metadata.json`'s `keras_version`, when present.
    var kerasVersion: String?
    /// The bytes of `model.weights.h5`.
    var weights: Data

    /// Bounds checked against each member's declared sizes before it is read.
    struct Limits {
        /// Largest `config.json`: the configs of the largest Keras Applications are ~1 MB.
        var configBytes: UInt64 = 64 << 20
        /// Largest `model.weights.h5` (it is held in memory twice while libhdf5 opens it).
        var weightsBytes: UInt64 = 4 << 30
        /// Largest expansion of a compressed member bigger than `ratioFloorBytes`: Keras stores members
        /// uncompressed (ratio 1) and float weights deflate by ~1.1x, so 50x means a zip bomb.
        var compressionRatio: UInt64 = 50
        var ratioFloorBytes: UInt64 = 16 << 20

        static let standard = Limits()
    }

    /// The zip local-file-header signature `PK\3\4` that starts every `.keras` file.
    static let magic: [UInt8] = [0x50, 0x4b, 0x03, 0x04]

    /// True when the file at `path` is a regular file starting with the zip signature (a FIFO or
    /// device is never opened: reading it could block; the HDF5 reader refuses it).
    static func hasZipMagic(path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return false }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let head = try? handle.read(upToCount: magic.count) else { return false }
        return Array(head) == magic
    }

    /// Reads `config.json`, `metadata.json` and `model.weights.h5` of the archive at `path`.
    /// Refuses, before reading any member: a damaged or truncated zip, member names that are
    /// absolute or climb out of the archive (`..`), a missing `config.json`, sharded weights,
    /// and members whose declared size or compression ratio exceeds the limits above.
    static func read(path: String, limits: Limits = .standard) throws(KerasImportError) -> KerasArchive {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw .archive(path: path, detail: "it starts like a zip file but cannot be read as one (\(describe(error))); "
                + "the file is truncated or damaged: save it again with model.save('m.keras')")
        }
        var members: [String: Entry] = [:]
        for entry in archive {
            let name = entry.path
            if let reason = unsafeNameReason(name) {
                throw .archive(path: path, detail: "member '\(name)' \(reason); a file written by Keras never has one, refusing the archive")
            }
            guard entry.type != .symlink else {
                throw .archive(path: path, detail: "member '\(name)' is a symbolic link; a file written by Keras never has one, refusing the archive")
            }
            guard members[name] == nil else { throw .archive(path: path, detail: "member '\(name)' appears twice") }
            members[name] = entry
        }
        guard let configEntry = members["config.json"] else {
            let listed = members.keys.sorted().prefix(8).joined(separator: ", ")
            throw .archive(path: path, detail: "it has no config.json (members: \(listed.isEmpty ? "none" : listed)); "
                + "a .keras file is written by model.save('m.keras')")
        }
        guard let weightsEntry = members["model.weights.h5"] else {
            if members["model.weights.json"] != nil {
                throw .archive(path: path, detail: "its weights are sharded (model.weights.json); "
                    + "save the model again without max_shard_size")
            }
            throw .archive(path: path, detail: "it has no model.weights.h5; save the model with model.save('m.keras') after building it")
        }
        let config = try extract(configEntry, from: archive, limit: limits.configBytes, limits: limits, path: path)
        guard let configText = String(data: config, encoding: .utf8) else {
            throw .archive(path: path, detail: "config.json is not UTF-8 text")
        }
        var version: String?
        if let metaEntry = members["metadata.json"] {
            let meta = try extract(metaEntry, from: archive, limit: 1 << 20, limits: limits, path: path)
            version = (try? JSONSerialization.jsonObject(with: meta) as? [String: Any])?["keras_version"] as? String
        }
        let weights = try extract(weightsEntry, from: archive, limit: limits.weightsBytes, limits: limits, path: path)
        return KerasArchive(config: configText, kerasVersion: version, weights: weights)
    }

    /// Why a member name is unsafe, or nil: absolute, drive-prefixed, backslashed, NUL-holding or `..` names.
    static func unsafeNameReason(_ name: String) -> String? {
        if name.hasPrefix("/") { return "has an absolute path" }
        if name.contains("\\") { return "has a backslash in its path" }
        if name.contains("\0") { return "has a NUL byte in its name" }
        if name.count >= 2, name.dropFirst().first == ":" { return "has a drive letter in its path" }
        if name.split(separator: "/", omittingEmptySubsequences: false).contains("..") { return "climbs out of the archive ('..')" }
        return nil
    }

    /// The bytes of one member, after checking its declared size against `limit` and its
    /// compression ratio; the bytes actually produced are counted against the declared size too,
    /// and the CRC-32 is checked.
    private static func extract(_ entry: Entry, from archive: Archive, limit: UInt64, limits: Limits,
                                path: String) throws(KerasImportError) -> Data {
        let name = entry.path
        let size = entry.uncompressedSize
        guard entry.type == .file else { throw .archive(path: path, detail: "member '\(name)' is not a file") }
        guard size <= limit else {
            throw .archive(path: path, detail: "member '\(name)' declares \(size) bytes uncompressed, over the limit of \(limit) bytes; refusing it")
        }
        let compressed = max(entry.compressedSize, 1)
        guard size <= limits.ratioFloorBytes || size / compressed <= limits.compressionRatio else {
            throw .archive(path: path, detail: "member '\(name)' expands \(size / compressed)x (\(entry.compressedSize) -> \(size) bytes), "
                + "over the limit of \(limits.compressionRatio)x for a Keras file: refusing a likely zip bomb")
        }
        var data = Data()
        data.reserveCapacity(Int(size))
        do {
            let checksum = try archive.extract(entry) { chunk in
                guard UInt64(data.count + chunk.count) <= size else { throw OverrunError() }
                data.append(chunk)
            }
            guard checksum == entry.checksum else {
                throw KerasImportError.archive(path: path, detail: "member '\(name)' fails its CRC-32 check; the file is damaged, save it again")
            }
        } catch let error as KerasImportError {
            throw error
        } catch is OverrunError {
            throw .archive(path: path, detail: "member '\(name)' holds more than the \(size) bytes it declares; refusing it")
        } catch {
            throw .archive(path: path, detail: "cannot read member '\(name)' (\(describe(error))); the file is truncated or damaged, save it again")
        }
        guard UInt64(data.count) == size else {
            throw .archive(path: path, detail: "member '\(name)' holds \(data.count) bytes but declares \(size); the file is truncated or damaged")
        }
        return data
    }

    private struct OverrunError: Error {}

    private static func describe(_ error: Error) -> String {
        if let error = error as? Archive.ArchiveError { return "\(error)" }
        return error.localizedDescription
    }
}
