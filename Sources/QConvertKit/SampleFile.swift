import HDF5

/// A dataset of samples (`N x H x W x C`, any numeric type) read in batches, so memory does not
/// grow with N.
public final class SampleFile {
    public let path: String
    public let datasetName: String
    public let count: Int
    public let sampleShape: [Int]
    private let file: HDF5File
    private let dataset: HDF5Dataset

    /// Opens `dataset` in `path` and checks that each sample has `expectedShape`. `missingHint` ends the
    /// error when the dataset is absent: the option that names it, or the file layout the command reads.
    public init(path: String, dataset name: String, expectedShape: [Int],
                missingHint: String = "pass --dataset NAME") throws(QConvertError) {
        do {
            file = try HDF5File.open(path)
            let trimmed = name.hasPrefix("/") ? String(name.dropFirst()) : name
            guard file.root.contains(trimmed) else {
                throw QConvertError.missingDataset(path: path, dataset: name, available: (try? file.root.childNames()) ?? [],
                                                   hint: missingHint)
            }
            dataset = try file.root.dataset(trimmed)
        } catch let e as QConvertError {
            throw e
        } catch let e as HDF5Error {
            throw .hdf5(e)
        } catch {
            throw .io(path: path, detail: "\(error)")
        }
        self.path = path
        datasetName = name
        let shape = dataset.shape
        // Accept N x H x W for single-channel models (a common way to store grayscale images).
        var sample = Array(shape.dropFirst())
        if sample.count + 1 == expectedShape.count, expectedShape.last == 1 { sample.append(1) }
        guard shape.count >= 1, sample == expectedShape else {
            throw .inputShapeMismatch(path: path, dataset: name, expected: expectedShape, found: shape)
        }
        count = shape[0]
        sampleShape = expectedShape
        // A dataset whose declared size the file does not hold (unwritten chunks of a sparse dataset,
        // or a decompression bomb) would cost hours of reading fill values: refused at once.
        let declared = MemoryBudget.multiplying(count, MemoryBudget.multiplying(expectedShape.reduce(1, *), dataset.scalarType?.size ?? 4))
        let stored = dataset.storageBytes
        if declared > Self.sparseFloor, stored < declared / Self.maxExpansion {
            throw .io(path: path, detail: "dataset '\(name)' declares \(count) samples (\(declared) bytes) but the file stores only \(stored) bytes "
                      + "of them: a sparse or decompression-bomb dataset; write the samples themselves (at most \(Self.maxExpansion)x compressed)")
        }
    }

    public var sampleSize: Int { sampleShape.reduce(1, *) }

    /// Declared sizes below this are read whatever their storage (small test files, all-zero inputs).
    static let sparseFloor = 64 << 20
    /// Real image data compresses a few times with gzip (zlib tops out near 1000x, on constant data); 256x is a dataset of fill values.
    static let maxExpansion = 256

    /// Reads samples `range` into `buffer` (`range.count x sampleSize` floats).
    public func read(_ range: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws(QConvertError) {
        do {
            try dataset.readFloats(rows: range, into: buffer)
        } catch {
            throw .hdf5(error)
        }
    }
}
