import Foundation
import HDF5

/// Writes one output file through a temporary file in the same folder (`OutputStage`) and renames it
/// into place, so a failure or interruption never leaves a half-written file under the final name.
public enum AtomicOutput {
    /// `body` writes the temporary file whose path it is given; `verify` then checks it (for HDF5:
    /// reopened and read back, so a write lost to a full disk is an error, not a file of zeros).
    public static func write(to path: String, verify: (String) throws -> Void = { _ in },
                             _ body: (String) throws -> Void) throws(QConvertError) {
        let stage = OutputStage()
        let temporary = try stage.add(path)
        do {
            try body(temporary)
            try verify(temporary)
        } catch {
            stage.discard()
            if let e = error as? QConvertError { throw e }
            if let e = error as? HDF5Error {
                throw .io(path: path, detail: "not written, the previous file is untouched (is the disk full?): \(e)")
            }
            throw .io(path: path, detail: "\(error)")
        }
        try stage.commit()
    }

    /// Checks that the HDF5 file at `temporary` opens and that each dataset in `shapes` has its shape.
    public static func verifyHDF5(_ temporary: String, destination: String, shapes: [String: [Int]]) throws(QConvertError) {
        do {
            let file = try HDF5File.open(temporary)
            for (name, shape) in shapes.sorted(by: { $0.key < $1.key }) {
                let found = try file.root.dataset(name).shape
                guard found == shape else {
                    throw QConvertError.io(path: destination, detail: "/\(name) was written with shape \(found), expected \(shape)")
                }
            }
        } catch let e as QConvertError {
            throw e
        } catch {
            throw .io(path: destination, detail: "the written file does not read back (\(error)); is the disk full?")
        }
    }
}
