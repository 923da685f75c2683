import HDF5
import XCTest

final class RoundTripTests: HDF5TestCase {
    /// Every scalar type: stored as that type, read back through float, double and int64 conversion.
    func testEveryScalarTypeRoundTrips() throws {
        let path = file("types.h5")
        let types: [HDF5ScalarType] = [.float32, .float64, .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64]
        // Values every type holds exactly, and float32 too.
        let values: [Float] = [0, 1, 2, 3, 100, 127, 5, 42]
        do {
            let h5 = try HDF5File.create(path)
            for type in types {
                let dataset = try h5.root.createDataset("\(type)", shape: [2, 4], type: type)
                try values.withUnsafeBufferPointer { try dataset.writeFloats(rows: 0..<2, from: $0) }
            }
        }
        let root = try HDF5File.open(path).root
        XCTAssertEqual(try root.childNames(), types.map { "\($0)" }.sorted())
        for type in types {
            let dataset = try root.dataset("\(type)")
            XCTAssertEqual(dataset.scalarType, type)
            XCTAssertEqual(dataset.shape, [2, 4])
            XCTAssertEqual(try dataset.readFloats(), values, "\(type)")
            XCTAssertEqual(try dataset.readDoubles(), values.map(Double.init), "\(type)")
            XCTAssertEqual(try dataset.readInt64s(), values.map { Int64($0) }, "\(type)")
            XCTAssertEqual(try dataset.readInt32s(), values.map { Int32($0) }, "\(type)")
        }
    }

    func testWholeDatasetConvenienceWriters() throws {
        let path = file("whole.h5")
        let floats = (0..<24).map { Float($0) * 0.25 - 3 }
        let ints: [Int32] = [Int32.min, -1, 0, 1, Int32.max]
        do {
            let h5 = try HDF5File.create(path)
            try h5.root.writeDataset("floats", shape: [2, 3, 4], floats: floats)
            try h5.root.writeDataset("ints", shape: [5], int32s: ints)
            try h5.root.writeDataset("scalar", shape: [], floats: [7.5])
            try h5.root.writeDataset("empty", shape: [0, 3], floats: [])
        }
        let root = try HDF5File.open(path).root
        XCTAssertEqual(try root.dataset("floats").readFloats(), floats)
        XCTAssertEqual(try root.dataset("floats").shape, [2, 3, 4])
        XCTAssertEqual(try root.dataset("ints").scalarType, .int32)
        XCTAssertEqual(try root.dataset("ints").readInt64s(), ints.map(Int64.init))
        XCTAssertEqual(try root.dataset("scalar").shape, [])
        XCTAssertEqual(try root.dataset("scalar").readFloats(), [7.5])
        XCTAssertEqual(try root.dataset("empty").shape, [0, 3])
        XCTAssertEqual(try root.dataset("empty").readFloats(), [])
    }

    func testFloat64PrecisionSurvivesReadDoubles() throws {
        let path = file("f64.h5")
        let values = [1.0 / 3.0, 1e300, -2.5e-300, .pi]
        do {
            let dataset = try HDF5File.create(path).root.createDataset("x", shape: [2, 2], type: .float64)
            try values.withUnsafeBufferPointer { try dataset.writeDoubles(rows: 0..<2, from: $0) }
        }
        let dataset = try HDF5File.open(path).root.dataset("x")
        XCTAssertEqual(try dataset.readDoubles(), values)
        XCTAssertEqual(try dataset.readFloats(), values.map(Float.init))
    }

    /// Chunked + gzip + shuffle, written in uneven batches and read back whole and by rows.
    func testChunkedGzipShuffleRowsRoundTrip() throws {
        let path = file("chunked.h5")
        let rows = 103, rowSize = 28 * 28
        let values = (0..<rows * rowSize).map { Float(($0 * 7919) % 1000) / 999 }
        do {
            let h5 = try HDF5File.create(path)
            let dataset = try h5.root.createDataset("inputs", shape: [rows, 28, 28, 1], type: .float32,
                                                    chunkRows: 16, gzipLevel: 6, shuffle: true)
            try values.withUnsafeBufferPointer { all in
                var start = 0
                for batch in [10, 32, 1, 50, 10] {
                    let range = start..<start + batch
                    try dataset.writeFloats(rows: range, from: UnsafeBufferPointer(rebasing: all[range.lowerBound * rowSize..<range.upperBound * rowSize]))
                    start += batch
                }
                XCTAssertEqual(start, rows)
            }
        }
        let dataset = try HDF5File.open(path).root.dataset("inputs")
        XCTAssertEqual(dataset.shape, [rows, 28, 28, 1])
        XCTAssertEqual(try dataset.readFloats(), values)
        var buffer = [Float](repeating: -1, count: 7 * rowSize)
        try buffer.withUnsafeMutableBufferPointer { try dataset.readFloats(rows: 40..<47, into: $0) }
        XCTAssertEqual(buffer, Array(values[40 * rowSize..<47 * rowSize]))
        // Gzip makes this compressible data smaller than its raw 323 KB.
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        XCTAssertLessThan(size, rows * rowSize * 4 / 2)
    }

    func testGzipWithoutChunkRowsPicksChunks() throws {
        let path = file("auto.h5")
        let values = (0..<5000).map { Float($0 % 10) }
        do {
            let h5 = try HDF5File.create(path)
            let dataset = try h5.root.createDataset("x", shape: [1000, 5], type: .float32, gzipLevel: 1)
            try values.withUnsafeBufferPointer { try dataset.writeFloats(rows: 0..<1000, from: $0) }
        }
        XCTAssertEqual(try HDF5File.open(path).root.dataset("x").readFloats(), values)
    }

    func testInt32RowWritesAndIntegerRowReadsAsFloats() throws {
        let path = file("labels.h5")
        do {
            let h5 = try HDF5File.create(path)
            let labels = try h5.root.createDataset("labels", shape: [6], type: .int32, chunkRows: 4)
            try [Int32(3), 1, 4].withUnsafeBufferPointer { try labels.writeInt32s(rows: 0..<3, from: $0) }
            try [Int32(1), 5, 9].withUnsafeBufferPointer { try labels.writeInt32s(rows: 3..<6, from: $0) }
        }
        let labels = try HDF5File.open(path).root.dataset("labels")
        XCTAssertEqual(try labels.readInt64s(), [3, 1, 4, 1, 5, 9])
        var two = [Float](repeating: 0, count: 2)
        try two.withUnsafeMutableBufferPointer { try labels.readFloats(rows: 2..<4, into: $0) }
        XCTAssertEqual(two, [4, 1])
        // An empty row range with an empty buffer is a no-op.
        try labels.readFloats(rows: 6..<6, into: UnsafeMutableBufferPointer(start: nil, count: 0))
    }

    func testNestedGroups() throws {
        let path = file("nested.h5")
        do {
            let h5 = try HDF5File.create(path)
            let weights = try h5.root.createGroup("model_weights")
            XCTAssertEqual(weights.name, "/model_weights")
            let conv = try weights.createGroup("conv2d/conv2d")   // intermediate group made on the way
            XCTAssertEqual(conv.name, "/model_weights/conv2d/conv2d")
            try conv.writeDataset("kernel:0", shape: [3, 3, 1, 2], floats: (0..<18).map(Float.init))
            try h5.root.writeDataset("a/b/c", shape: [1], floats: [1])
            _ = try weights.createGroup("activation")
        }
        let h5 = try HDF5File.open(path)
        let root = h5.root
        XCTAssertEqual(root.name, "/")
        XCTAssertEqual(root.path, path)
        XCTAssertEqual(try root.childNames(), ["a", "model_weights"])
        XCTAssertEqual(try root.group("model_weights").childNames(), ["activation", "conv2d"])
        XCTAssertTrue(root.contains("model_weights/conv2d/conv2d/kernel:0"))
        XCTAssertTrue(root.contains("/model_weights/conv2d"))
        XCTAssertFalse(root.contains("model_weights/dense/kernel:0"), "missing parent")
        XCTAssertFalse(root.contains("missing/deeper/still"))
        XCTAssertFalse(root.contains("a/b/c/d"), "a dataset in the middle of the path")
        XCTAssertFalse(root.contains(""))
        let kernel = try root.group("model_weights").group("conv2d/conv2d").dataset("kernel:0")
        XCTAssertEqual(kernel.name, "/model_weights/conv2d/conv2d/kernel:0")
        XCTAssertEqual(kernel.shape, [3, 3, 1, 2])
        XCTAssertEqual(try root.dataset("model_weights/conv2d/conv2d/kernel:0").readFloats(), (0..<18).map(Float.init))
        XCTAssertEqual(try root.group("model_weights/activation").childNames(), [])
    }

    /// Objects keep their file open after the file object itself is gone.
    func testChildrenOutliveTheirFileObject() throws {
        let path = file("lifetime.h5")
        try HDF5File.create(path).root.writeDataset("x", shape: [3], floats: [1, 2, 3])
        let dataset = try HDF5File.open(path).root.group("/").dataset("x")
        XCTAssertEqual(try dataset.readFloats(), [1, 2, 3])
        XCTAssertEqual(dataset.file.path, path)
    }

    /// A file being written here can be read by another opener once flushed (file locking is off
    /// for readers), which is what CLI tests spawning a reader process rely on.
    func testOpenForReadingWhileStillOpenForWriting() throws {
        let path = file("shared.h5")
        let writer = try HDF5File.create(path)
        try writer.root.writeDataset("inputs", shape: [2, 2], floats: [1, 2, 3, 4])
        let reader = try HDF5File.open(path)
        XCTAssertEqual(try reader.root.dataset("inputs").readFloats(), [1, 2, 3, 4])
        withExtendedLifetime(writer) {}
    }

    func testCreateReplacesExistingFile() throws {
        let path = file("replace.h5")
        try HDF5File.create(path).root.writeDataset("old", shape: [1], floats: [1])
        try HDF5File.create(path).root.writeDataset("new", shape: [1], floats: [2])
        XCTAssertEqual(try HDF5File.open(path).root.childNames(), ["new"])
    }

    /// Reads from several threads at once are serialised by the wrapper's lock and stay correct.
    func testConcurrentReadsAreSerialisedSafely() throws {
        let path = file("threads.h5")
        let values = (0..<100_000).map { Float($0) }
        try HDF5File.create(path).root.writeDataset("x", shape: [1000, 100], floats: values)
        let dataset = try HDF5File.open(path).root.dataset("x")
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var buffer = [Float](repeating: 0, count: 100 * 100)
            for round in 0..<10 {
                let start = ((worker * 10 + round) * 100) % 900
                do {
                    try buffer.withUnsafeMutableBufferPointer { try dataset.readFloats(rows: start..<start + 100, into: $0) }
                    if buffer != Array(values[start * 100..<(start + 100) * 100]) { failures.add("rows \(start) differ") }
                    let other = try HDF5File.open(path).root.dataset("x")
                    if other.shape != [1000, 100] { failures.add("shape \(other.shape)") }
                } catch {
                    failures.add("\(error)")
                }
            }
        }
        XCTAssertEqual(failures.list, [])
    }
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ message: String) { lock.lock(); items.append(message); lock.unlock() }
    var list: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
