import CKernels
import QCore

/// The u8 path of `FastConv2D` without im2col (XNNPACK's indirect GEMM): A is read where it lies, in
/// the converted input bytes, through a table of row pointers, one per output pixel and *segment*.
///
/// A segment is a run of K that is contiguous in the input: a whole filter row (`kernelW * inC` values)
/// for an ungrouped conv with no horizontal dilation, else one tap (`inC / groups` values). Each
/// segment's K is padded to whole u8 quads with zero weights (`packed`, repacked only where a segment is
/// not already whole quads, e.g. a 1-channel stem's 3-value filter rows), so the kernel may read up to 3
/// bytes past a segment: they meet zero weights, and the converted input keeps 4 bytes of slack after
/// its last sample.
///
/// The input is converted into a *padded* image (`paddedH x paddedW`, the conv's padding written as the
/// padding value `zin - min` around each sample, as far as any tap reaches), so every segment of every
/// output pixel lies inside it: a pixel's table entries are its patch origin plus fixed offsets, with
/// no bounds checks, and the sums are those of im2col, which writes the same padding value.
final class IndirectConvForm: @unchecked Sendable {
    /// Segments per patch, the input values in one segment, and its padded length in quads.
    let segments: Int, segmentLength: Int, segmentQuads: Int
    /// Rows and columns of the padded image: the input plus the padding on each side that a tap reaches.
    let paddedH: Int, paddedW: Int
    /// Per segment: where it reads from a patch's top-left value in the padded image.
    let offsets: [Int]
    /// Per group, the weights with K laid out segment by segment in whole quads (the conv's own packing
    /// where that is the same layout).
    let packed: [PackedGEMMWeights]
    /// `segmentQuads * 4` bytes of the padding value, read by the rows that fill a last tile.
    let padding: UnsafeMutablePointer<UInt8>
    /// The segment tables of whole tiles, built once (`RelativeSegmentTables`); nil where too large.
    let relative: RelativeSegmentTables?

    init(_ p: ConvParams, packed convPacked: [PackedGEMMWeights], paddingValue: Int32) {
        let cinG = p.inChannelsPerGroup
        let segmentTaps = p.groups == 1 && p.dilationW == 1 ? p.kernelW : 1
        let segments = p.kernelH * p.kernelW / segmentTaps, length = segmentTaps * cinG
        self.segments = segments
        segmentLength = length
        segmentQuads = (length + 3) / 4
        // The last row and column any tap reaches, from the padded image's origin (-padTop, -padLeft).
        let reachH = (p.outH - 1) * p.strideH + (p.kernelH - 1) * p.dilationH + 1
        let reachW = (p.outW - 1) * p.strideW + (p.kernelW - 1) * p.dilationW + 1
        paddedH = Swift.max(reachH, p.padTop + p.inH)
        paddedW = Swift.max(reachW, p.padLeft + p.inW)
        let paddedW = paddedW
        offsets = (0..<segments).map { s in
            let t = s * segmentTaps
            return ((t / p.kernelW) * p.dilationH * paddedW + (t % p.kernelW) * p.dilationW) * p.inC
        }
        let paddedLength = segmentQuads * 4
        if paddedLength == segmentLength {
            packed = convPacked
        } else {
            let k = p.kernelH * p.kernelW * cinG, coutG = p.outChannelsPerGroup
            var spread = [Int32](repeating: 0, count: p.outC * segments * paddedLength)
            for c in 0..<p.outC {
                for s in 0..<segments {
                    for i in 0..<length { spread[(c * segments + s) * paddedLength + i] = p.weights[c * k + s * length + i] }
                }
            }
            let kPadded = segments * paddedLength
            packed = spread.withUnsafeBufferPointer { w in
                (0..<p.groups).map { g in
                    PackedGEMMWeights(weights: w, n: coutG, k: kPadded, rowStride: kPadded, offset: g * coutG * kPadded, path: .u8)
                }
            }
        }
        padding = .allocate(capacity: paddedLength)
        padding.initialize(repeating: UInt8(truncatingIfNeeded: paddingValue), count: paddedLength)
        relative = RelativeSegmentTables(p, segments: segments, offsets: offsets, paddedH: paddedH, paddedW: paddedW,
                                         blockRows: GEMMScratch.blockRows)
    }

    deinit { padding.deallocate() }

    /// Whether the active kernel level runs this form exactly (`PackedGEMMWeights.runsIndirect`).
    var runs: Bool { packed.allSatisfy { $0.runsIndirect(tapLength: segmentQuads * 4) } }
}

extension FastConv2D {
    /// Whether `run` takes the indirect form at the active kernel level.
    var runsIndirect: Bool { indirect?.runs ?? false }

    /// Each thread converts the samples its rows read to bytes (`x - min`) in the padded image, then for
    /// each block of rows points a table at the segments of each 4-row tile and runs the indirect
    /// kernel, then requantizes: the same sums as im2col, so the same outputs.
    func runIndirect(_ input: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int32>, batch: Int, threads: Int,
                     requantize: Bool) {
        guard let form = indirect else { return }
        let pixels = p.outH * p.outW, paddedSize = form.paddedH * form.paddedW * p.inC
        let rows = batch * pixels
        let blockRows = GEMMScratch.blockRows
        let tableCount = blockRows * form.segments
        let ldc = form.packed[0].panels * 16
        adjustedBias.withUnsafeBufferPointer { bias in
            let bias = bias.baseAddress!
            parallelChunks(rows, threads: threads, alignment: 4) { range in
                guard !range.isEmpty else { return }
                let samples = (range.lowerBound / pixels)..<((range.upperBound - 1) / pixels + 1)
                let pointerSize = MemoryLayout<UnsafePointer<UInt8>?>.stride
                ThreadScratch.withBytes(slot: 0, count: tableCount * pointerSize) { tableBytes in
                    ThreadScratch.withBytes(slot: 1, count: blockRows * ldc * 4) { cBytes in
                        // 4 bytes of slack: a segment's padded quads may read past the last sample.
                        ThreadScratch.withBytes(slot: 2, count: samples.count * paddedSize + 4) { bytes in
                            let converted = bytes.bindMemory(to: UInt8.self, capacity: samples.count * paddedSize + 4)
                            let table = tableBytes.bindMemory(to: UnsafePointer<UInt8>?.self, capacity: tableCount)
                            let c = cBytes.bindMemory(to: Int32.self, capacity: blockRows * ldc)
                            convolveIndirect(form, input, converted, samples: samples, rows: range, table: table,
                                             c: c, ldc: ldc, bias: bias, out, requantize: requantize)
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private func convolveIndirect(_ form: IndirectConvForm, _ input: UnsafePointer<Int32>, _ converted: UnsafeMutablePointer<UInt8>,
                                  samples: Range<Int>, rows range: Range<Int>, table: UnsafeMutablePointer<UnsafePointer<UInt8>?>,
                                  c: UnsafeMutablePointer<Int32>, ldc: Int,
                                  bias: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int32>, requantize: Bool) {
        convertPadded(form, input, samples: samples, into: converted)
        let pixels = p.outH &* p.outW, imageBytes = form.paddedH &* form.paddedW &* p.inC
        var first = range.lowerBound
        while first < range.upperBound {
            let rows = Swift.min(GEMMScratch.blockRows, range.upperBound - first)
            // Whole tiles read the tables built once; a last tile past the range's end gets its own table,
            // whose rows beyond the range point at the padding instead of at samples not converted.
            let whole = form.relative == nil ? 0 : rows & ~3
            // Sums of whole tiles whose rows are as wide as the output's go straight to the output.
            let direct = !requantize && p.groups == 1 && ldc == p.outC && rows % 4 == 0
            let sums = direct ? out + first &* p.outC : c
            for g in 0..<p.groups {
                if let relative = form.relative, whole > 0 {
                    let sample = first / pixels, pixel = first &- sample &* pixels
                    let image = Int(bitPattern: converted) &+ (sample &- samples.lowerBound) &* imageBytes
                    form.packed[g].multiplyIndirect(table: relative.tiles(from: pixel),
                                                    rowOffset: image &+ g &* p.inChannelsPerGroup, tiles: whole / 4,
                                                    taps: form.segments, tapQuads: form.segmentQuads, c: sums, ldc: ldc)
                }
                if whole < rows {
                    form.offsets.withUnsafeBufferPointer { offsets in
                        segmentTable(form, UnsafePointer(converted), firstSample: samples.lowerBound,
                                     rows: first &+ whole..<first &+ rows, group: g, into: table, offsets: offsets.baseAddress!)
                    }
                    form.packed[g].multiplyIndirect(table: UnsafePointer(table), tiles: (rows &- whole &+ 3) / 4,
                                                    taps: form.segments, tapQuads: form.segmentQuads,
                                                    c: sums + whole &* ldc, ldc: ldc)
                }
                if !direct {
                    store(c, ldc: ldc, rows: rows, first: first, channel0: g * p.outChannelsPerGroup,
                          channels: p.outChannelsPerGroup, requantize: requantize, bias: bias, into: out)
                }
            }
            first += rows
        }
    }

    /// `samples` of the input as bytes `x - inputOffset` in padded images, one after another, the
    /// padding value in the border, and 4 zero bytes after the last.
    @inline(__always)
    private func convertPadded(_ form: IndirectConvForm, _ input: UnsafePointer<Int32>, samples: Range<Int>,
                               into converted: UnsafeMutablePointer<UInt8>) {
        let inC = p.inC, sampleSize = p.inH * p.inW * inC
        let paddedH = form.paddedH, paddedW = form.paddedW, rowBytes = paddedW &* inC
        let offset = inputOffset, fill = form.padding[0], source = input + samples.lowerBound * sampleSize
        let count = samples.count &* paddedH &* rowBytes
        if paddedH == p.inH && paddedW == p.inW {
            qc_offset_u8(source, count, offset, converted)
        } else {
            let top = p.padTop, left = p.padLeft &* inC, line = p.inW &* inC, right = rowBytes &- left &- line
            for b in 0..<samples.count {
                let image = converted + b &* paddedH &* rowBytes, sample = source + b &* sampleSize
                for y in 0..<paddedH {
                    let row = image + y &* rowBytes
                    let inY = y &- top
                    guard inY >= 0 && inY < p.inH else {
                        row.initialize(repeating: fill, count: rowBytes)
                        continue
                    }
                    row.initialize(repeating: fill, count: left)
                    qc_offset_u8(sample + inY &* line, line, offset, row + left)
                    (row + (left &+ line)).initialize(repeating: fill, count: right)
                }
            }
        }
        (converted + count).initialize(repeating: 0, count: 4)
    }

    /// The table for the output pixels `rows` (flat over batch, outY, outX), in tiles of 4:
    /// `table[(tile * segments + s) * 4 + r]` points at segment s of row `4 tile + r`'s patch in the
    /// padded images of `input` (samples from `firstSample` on), for group `group`; the rows that fill
    /// the last tile past `rows` point at `form.padding`.
    @inline(__always)
    private func segmentTable(_ form: IndirectConvForm, _ input: UnsafePointer<UInt8>, firstSample: Int, rows: Range<Int>,
                              group: Int, into table: UnsafeMutablePointer<UnsafePointer<UInt8>?>, offsets: UnsafePointer<Int>) {
        let segments = form.segments, inC = p.inC, outW = p.outW
        let rowBytes = form.paddedW &* inC, imageBytes = form.paddedH &* rowBytes
        let stepY = p.strideH &* rowBytes, stepX = p.strideW &* inC
        let count = rows.count, padded = (count &+ 3) & ~3
        var pixel = OutputPixel(row: rows.lowerBound, height: p.outH, width: outW)
        let base = input + group &* p.inChannelsPerGroup
        var i = 0
        while i < count {
            let slot = table + ((i >> 2) &* segments &* 4 &+ (i & 3))
            let origin = base + ((pixel.sample &- firstSample) &* imageBytes &+ pixel.y &* stepY &+ pixel.x &* stepX)
            // A whole tile of four pixels of one output row: its rows are `stepX` apart.
            if i & 3 == 0 && i &+ 4 <= count && pixel.x &+ 3 < outW {
                for s in 0..<segments {
                    let first = origin + offsets[s], tap = slot + s &* 4
                    tap[0] = first; tap[1] = first + stepX; tap[2] = first + 2 &* stepX; tap[3] = first + 3 &* stepX
                }
                i &+= 4
                pixel.advance(by: 4)
                continue
            }
            for s in 0..<segments { slot[s &* 4] = origin + offsets[s] }
            i &+= 1
            pixel.advance()
        }
        let pad = UnsafePointer(form.padding)
        while i < padded {
            let slot = table + ((i >> 2) &* segments &* 4 &+ (i & 3))
            for s in 0..<segments { slot[s &* 4] = pad }
            i &+= 1
        }
    }
}

/// The segment table of a conv's output pixels built once (XNNPACK's indirection buffer): entries are
/// offsets from the first sample's padded image, not addresses, and the kernel adds the image's address
/// (`row_offset`), so one table serves every batch, thread and sample. Pixels run on across samples
/// (a sample's image `imageBytes` after the last), so a block that starts in one sample and ends in the
/// next reads one stretch of it.
///
/// Tiles start at whole multiples of 4 rows of a table. A block starts at a multiple of 4 in the batch,
/// so its first pixel in its sample is too where a sample's pixel count is; else the block may start at
/// any phase (pixel mod 4), and there is one table per phase, the table of phase f starting at pixel f.
final class RelativeSegmentTables: @unchecked Sendable {
    let segments: Int
    private let tables: [UnsafeMutablePointer<UnsafePointer<UInt8>?>]

    /// nil where the tables would pass `maxEntries` pointers (2 MiB: a very large output image).
    init?(_ p: ConvParams, segments: Int, offsets: [Int], paddedH: Int, paddedW: Int, blockRows: Int,
          maxEntries: Int = 1 << 18) {
        let pixels = p.outH * p.outW
        let phases = pixels % 4 == 0 ? 1 : 4
        // Rows per table: a sample and a block.
        let rows = (pixels + blockRows + 3) & ~3
        guard rows * segments * phases <= maxEntries else { return nil }
        self.segments = segments
        let rowBytes = paddedW * p.inC, imageBytes = paddedH * rowBytes
        let stepY = p.strideH * rowBytes, stepX = p.strideW * p.inC
        tables = (0..<phases).map { phase in
            let table = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: rows * segments)
            var pixel = OutputPixel(row: phase, height: p.outH, width: p.outW)
            for i in 0..<rows {
                let origin = pixel.sample * imageBytes + pixel.y * stepY + pixel.x * stepX
                let slot = table + ((i >> 2) * segments * 4 + (i & 3))
                for s in 0..<segments { slot[s * 4] = UnsafePointer(bitPattern: origin + offsets[s]) }
                pixel.advance()
            }
            return table
        }
    }

    deinit { tables.forEach { $0.deallocate() } }

    /// The tiles of the rows from `pixel` (a block's first pixel in its sample) on.
    @inline(__always)
    func tiles(from pixel: Int) -> UnsafePointer<UnsafePointer<UInt8>?> {
        let phase = pixel & 3
        precondition(phase < tables.count, "a block starts at pixel \(pixel), not a multiple of 4")
        return UnsafePointer(tables[phase] + ((pixel &- phase) >> 2) &* segments &* 4)
    }
}
