import Foundation
import HDF5
import XCTest

/// Contiguous float reads go straight from HDF5 into the destination (no Swift per-element loop).
/// Prints the rate; the assertion floor is far below the ~GB/s expected so a loaded machine passes.
final class ThroughputTests: HDF5TestCase {
    /// Below this a per-element Swift loop (or a copy per element) has crept into the read path;
    /// debug builds of such loops run near 50-100 MB/s.
    static let minimumBytesPerSecond = 300e6

    func testContiguousFloatReadRate() throws {
        let path = file("big.h5")
        let rows = 4096, rowSize = 4096   // 64 MiB of float32
        do {
            let h5 = try HDF5File.create(path)
            try h5.root.writeDataset("x", shape: [rows, rowSize], floats: (0..<rows * rowSize).map { Float($0 & 1023) })
        }
        let dataset = try HDF5File.open(path).root.dataset("x")
        let bytes = Double(rows * rowSize * 4)
        var wholeRates: [Double] = []
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            let values = try dataset.readFloats()
            wholeRates.append(bytes / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
            XCTAssertEqual(values[1025], 1)
        }
        var buffer = [Float](repeating: 0, count: 512 * rowSize)
        var rowRates: [Double] = []
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            try buffer.withUnsafeMutableBufferPointer { pointer in
                for first in stride(from: 0, to: rows, by: 512) { try dataset.readFloats(rows: first..<first + 512, into: pointer) }
            }
            rowRates.append(bytes / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }
        let whole = wholeRates.sorted()[2], batched = rowRates.sorted()[2]
        print(String(format: "HDF5 contiguous read, 64 MiB: whole %.2f GB/s (new array), 512-row batches %.2f GB/s (reused buffer), medians of 5",
                     whole / 1e9, batched / 1e9))
        XCTAssertGreaterThan(batched, Self.minimumBytesPerSecond)
    }
}
