// libFuzzer entry for the .qbin reader, built by tools/fuzz-qbin.sh together with Sources/QBin/*.swift
// (one module, so no `import QBin`). Not part of the SwiftPM package.

/// Each input is decoded twice: as is (exercising the header, directory and CRC checks), then with
/// its file size and CRCs fixed up (`resealed`), so that mutations reach the section parsers and the
/// model validation instead of stopping at a checksum.
///
/// Every input must decode to a model or throw a `QBinError`. A model the reader accepts must
/// re-encode and decode to itself (the writer and reader agree on everything the reader accepts).
@_cdecl("LLVMFuzzerTestOneInput")
public func qbinFuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    check(bytes)
    check(resealed(bytes))
    return 0
}

private func check(_ bytes: [UInt8]) {
    guard var model = try? QBinReader.decode(bytes) else { return }
    // A 1.0 file may lack the `rounding` key, which the (1.1) writer requires: add what it means.
    if model.recordedRounding == nil { model.metadata.append(QMetadataEntry(QMetadataEntry.rounding, QModel.defaultRoundingProfileName)) }
    do {
        let again = try QBinReader.decode(try QBinWriter.encode(model))
        if again != model { fatalError("qbin fuzz: re-encoded model differs from the decoded one") }
    } catch {
        fatalError("qbin fuzz: accepted model does not round-trip: \(error)")
    }
}

/// `bytes` with the header's file size, each plausible directory entry's CRC and the header CRC
/// recomputed; unchanged when too short to hold a header.
private func resealed(_ bytes: [UInt8]) -> [UInt8] {
    guard bytes.count >= 32 else { return bytes }
    var b = bytes
    func read(_ at: Int, _ n: Int) -> UInt64 { (0..<n).reduce(UInt64(0)) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }
    func put(_ v: UInt64, _ at: Int, _ n: Int) { for k in 0..<n { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) } }
    put(UInt64(b.count), 16, 8)
    let count = min(Int(read(12, 4)), 64, (b.count - 32) / 24)
    for i in 0..<count {
        let entry = 32 + 24 * i
        let offset = read(entry + 8, 8), length = read(entry + 16, 8)
        guard offset <= UInt64(b.count), length <= UInt64(b.count) - offset else { continue }
        put(UInt64(qbinCRC32(b, Int(offset)..<Int(offset + length))), entry + 4, 4)
    }
    let crc = qbinCRC32(b, 0..<24)
    put(UInt64(qbinCRC32(b, 32..<32 + 24 * count, initial: crc)), 24, 4)
    return b
}
