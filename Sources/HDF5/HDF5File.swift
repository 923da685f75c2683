// An owning Swift wrapper around libhdf5: files, groups, datasets and string attributes.
//
// Threading: the libhdf5 build this links against is not thread-safe. Every public call (and
// every `deinit` that closes a handle) takes one process-wide recursive lock, so HDF5 calls from
// different threads are serialised and never overlap; objects may be handed between threads, but
// expect no parallel speed-up from reading HDF5 on several threads.
//
// Ownership: each object closes its own HDF5 handle in `deinit`; groups and datasets keep their
// file alive, and the file is closed when the last of them goes away. Temporary handles
// (dataspaces, types, property lists, attributes) are closed before a call returns.
import CHDF5
import Foundation

/// An open HDF5 file. `open` is read-only; `create` truncates and opens read-write.
public final class HDF5File: @unchecked Sendable {
    public let path: String
    /// True for files made with `create`.
    public let isWritable: Bool
    let id: hid_t
    private let rootID: hid_t

    private init(path: String, id: hid_t, rootID: hid_t, isWritable: Bool) {
        self.path = path
        self.id = id
        self.rootID = rootID
        self.isWritable = isWritable
    }

    deinit {
        H5Library.enter(); defer { H5Library.leave() }
        _ = H5Gclose(rootID)
        _ = H5Fclose(id)
    }

    /// Opens an existing file read-only. Checks, in order: the file exists (`fileNotFound`), it
    /// carries the HDF5 signature (`notHDF5`, also for an empty file), the library can open it
    /// (`openFailed` with HDF5's error stack, e.g. for a truncated copy).
    public static func open(_ path: String) throws(HDF5Error) -> HDF5File {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .fileNotFound(path: path) }
        guard !isDirectory.boolValue else { throw .openFailed(path: path, detail: "it is a directory, not a file") }
        // A FIFO would block the open forever and a device (a link to /dev/zero) never ends.
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw .openFailed(path: path, detail: "it is not a regular file (a FIFO, device or socket); pass an HDF5 file")
        }
        guard access(path, R_OK) == 0 else {
            throw .openFailed(path: path, detail: "no permission to read it (\(String(cString: strerror(errno))))")
        }
        H5Library.enter(); defer { H5Library.leave() }
        // H5Fis_hdf5 looks for the signature; it fails rather than answering for an empty file.
        guard H5Fis_hdf5(path) > 0 else { throw .notHDF5(path: path) }
        try HDF5GlobalHeapCheck.check(path: path)
        let access = fileAccessList()
        defer { close(access, H5Pclose) }
        let id = H5Fopen(path, qc_h5f_acc_rdonly(), access)
        guard id >= 0 else { throw .openFailed(path: path, detail: H5Library.errorText()) }
        return try finishOpening(path: path, id: id, isWritable: false)
    }

    /// Creates `path` (replacing any existing file) and opens it for writing.
    public static func create(_ path: String) throws(HDF5Error) -> HDF5File {
        H5Library.enter(); defer { H5Library.leave() }
        let access = fileAccessList()
        defer { close(access, H5Pclose) }
        let id = H5Fcreate(path, qc_h5f_acc_trunc(), qc_h5p_default(), access)
        guard id >= 0 else {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            let hint = FileManager.default.fileExists(atPath: folder) ? "" : " (the folder \(folder) does not exist)"
            throw .writeFailed(path: path, object: "the file", detail: H5Library.errorText() + hint)
        }
        return try finishOpening(path: path, id: id, isWritable: true)
    }

    /// File access without HDF5 1.10's flock-based locking, for readers and writers alike (the
    /// library refuses to open one file twice with different settings). Locking would make a
    /// reader fail with "unable to lock file" whenever a writer still holds the file open (a test
    /// writing inputs, then running the CLI on them) and on filesystems without flock (NFS).
    /// Outputs are written to a temporary file and renamed, so readers never see a partial file.
    private static func fileAccessList() -> hid_t {
        let access = H5Pcreate(qc_h5p_file_access())
        guard access >= 0 else { return qc_h5p_default() }
        _ = qc_h5p_disable_file_locking(access)
        return access
    }

    static func finishOpening(path: String, id: hid_t, isWritable: Bool) throws(HDF5Error) -> HDF5File {
        let rootID = H5Gopen2(id, "/", qc_h5p_default())
        guard rootID >= 0 else {
            let detail = H5Library.errorText()
            _ = H5Fclose(id)
            throw .openFailed(path: path, detail: detail)
        }
        return HDF5File(path: path, id: id, rootID: rootID, isWritable: isWritable)
    }

    /// The root group `/`.
    public var root: HDF5Group {
        HDF5Group(file: self, id: rootID, name: "/", ownsHandle: false)
    }

    /// Writes everything buffered so far to disk, so another process can read the file while it
    /// stays open here. Group, attribute and whole-dataset writes already flush.
    public func flush() throws(HDF5Error) {
        H5Library.enter(); defer { H5Library.leave() }
        try flushLocked()
    }

    func flushLocked() throws(HDF5Error) {
        guard isWritable else { return }
        if H5Fflush(id, H5F_SCOPE_GLOBAL) < 0 {
            throw .writeFailed(path: path, object: "the file", detail: H5Library.errorText())
        }
    }
}
