import CHDF5

/// What groups and datasets share: a handle inside an open file, a full name, and attributes
/// (see HDF5Object+Attributes.swift). Sendable because its state is immutable and every HDF5
/// call goes through the global lock (see HDF5File.swift).
public class HDF5Object: @unchecked Sendable {
    /// The file holding this object; kept alive as long as the object is.
    public let file: HDF5File
    /// The file's path, for messages.
    public let path: String
    /// Full name inside the file, e.g. "/model_weights/conv2d".
    public let name: String
    let id: hid_t
    private let ownsHandle: Bool

    init(file: HDF5File, id: hid_t, name: String, ownsHandle: Bool = true) {
        self.file = file
        self.path = file.path
        self.id = id
        self.name = name
        self.ownsHandle = ownsHandle
    }

    deinit {
        guard ownsHandle else { return }
        H5Library.enter(); defer { H5Library.leave() }
        _ = H5Oclose(id)
    }

    /// Throws unless the file was made with `HDF5File.create` (HDF5's own "no write intent on
    /// file" would otherwise arrive buried in a deep error stack).
    func requireWritable(_ object: String) throws(HDF5Error) {
        guard file.isWritable else {
            throw .writeFailed(path: path, object: object, detail: "the file is open read-only; write to a file made with HDF5File.create")
        }
    }

    /// The full name of `relative` below this object ("/a" + "b/c" = "/a/b/c").
    func fullName(_ relative: String) -> String {
        if relative.hasPrefix("/") { return relative }
        let trimmed = relative.split(separator: "/").joined(separator: "/")
        return name == "/" ? "/" + trimmed : name + "/" + trimmed
    }
}
