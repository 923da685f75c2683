// libFuzzer entry for calibration / evaluation files, built by tools/fuzz-keras.sh (`calibration`
// target) against the HDF5 module. Not part of the SwiftPM package.
import Foundation
import HDF5

/// Each input is written as an `.h5` file and read the way `SampleFile` and `EvaluationTargets` read
/// calibration and evaluation files: open, find `/inputs`, check its shape and its stored size against
/// the declared one (the sparse / bomb rule), read it in batches of rows, and read `/labels` and
/// `/outputs` whole under the 64 MB budget. Every input must read or throw `HDF5Error`.
@_cdecl("LLVMFuzzerTestOneInput")
public func calibrationFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    HDF5Dataset.maxWholeReadBytes = 64 << 20
    let path = NSTemporaryDirectory() + "/qc-calibration-fuzz-\(getpid()).h5"
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size)) else { return 0 }
    guard let file = try? HDF5File.open(path), file.root.contains("inputs"), let inputs = try? file.root.dataset("inputs"),
          inputs.shape.count >= 2, inputs.shape.allSatisfy({ $0 > 0 }) else { return 0 }
    let sampleSize = inputs.rowSize
    let declared = inputs.count.multipliedReportingOverflow(by: inputs.scalarType?.size ?? 4)
    // SampleFile's rule: refuse datasets declaring far more than they store (never read them).
    if declared.overflow || (declared.partialValue > 64 << 20 && inputs.storageBytes < declared.partialValue / 256) { return 0 }
    guard sampleSize <= 1 << 20 else { return 0 }
    var buffer = [Float](repeating: 0, count: 32 * sampleSize)
    var start = 0
    while start < min(inputs.shape[0], 256) {
        let n = min(32, inputs.shape[0] - start)
        let ok: Bool = buffer.withUnsafeMutableBufferPointer { b in
            (try? inputs.readFloats(rows: start..<start + n, into: UnsafeMutableBufferPointer(rebasing: b[0..<n * sampleSize]))) != nil
        }
        if !ok { break }
        start += n
    }
    for name in ["labels", "outputs"] where file.root.contains(name) {
        _ = try? file.root.dataset(name).readFloats()
    }
    return 0
}
