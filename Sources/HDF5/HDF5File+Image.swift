import CHDF5
import Foundation

extension HDF5File {
    /// Opens an HDF5 file held in memory (a member of a zip archive, say) read-only, through the
    /// core driver: nothing touches the disk. `name` labels the file in errors and object paths
    /// (`model.keras!model.weights.h5`). libhdf5 copies the bytes, so `image` may be freed afterwards.
    public static func open(image: Data, name: String) throws(HDF5Error) -> HDF5File {
        // The signature sits at offset 0 (or 512, 1024, ... after a user block); Keras writes it at 0.
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
        guard image.count >= signature.count, Array(image.prefix(signature.count)) == signature else {
            throw .notHDF5(path: name)
        }
        try HDF5GlobalHeapCheck.check(image, name: name)
        H5Library.enter(); defer { H5Library.leave() }
        let access = H5Pcreate(qc_h5p_file_access())
        guard access >= 0 else { throw .openFailed(path: name, detail: H5Library.errorText()) }
        defer { close(access, H5Pclose) }
        // Growth increment of the in-memory file (never grows: read-only) and no backing store.
        guard H5Pset_fapl_core(access, 1 << 16, false) >= 0 else { throw .openFailed(path: name, detail: H5Library.errorText()) }
        let status = image.withUnsafeBytes { bytes in
            H5Pset_file_image(access, UnsafeMutableRawPointer(mutating: bytes.baseAddress), bytes.count)
        }
        guard status >= 0 else { throw .openFailed(path: name, detail: H5Library.errorText()) }
        let id = H5Fopen(name, qc_h5f_acc_rdonly(), access)
        guard id >= 0 else { throw .openFailed(path: name, detail: H5Library.errorText()) }
        return try finishOpening(path: name, id: id, isWritable: false)
    }
}
