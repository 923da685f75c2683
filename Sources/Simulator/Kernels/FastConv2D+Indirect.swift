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
/// its last sample. A segment that lies inside the image is read in place; one wholly in the padding
/// reads `padding`; one that straddles the border (a filter row at the left or right edge) is
/// assembled in a side buffer, padding value outside the image, as im2col would write it.
final class IndirectConvForm: @unchecked Sendable {
    /// Taps per segment (`kernelW` or 1) and segments per patch.
    let segmentTaps: Int, segments: Int
    /// Input values in one segment, and its padded length in quads.
    let segmentLength: Int, segmentQuads: Int
    /// Per segment: where it reads from a patch's top-left input value, and its first tap's row and
    /// column from the patch origin.
    let offsets: [Int], dy: [Int], dx: [Int]
    /// Columns a segment spans past its first tap: `(segmentTaps - 1) * dilationW`.
    let spanX: Int
    /// Per group, the weights with K laid out segment by segment in whole quads (the conv's own packing
    /// where that is the same layout).
    let packed: [PackedGEMMWeights]
    /// `segmentQuads * 4` bytes of the padding value `zin - min`.
    let padding: UnsafeMutablePointer<UInt8>

    init(_ p: ConvParams, packed convPacked: [PackedGEMMWeights], paddingValue: Int32) {
        let cinG = p.inChannelsPerGroup
        let segmentTaps = p.groups == 1 && p.dilationW == 1 ? p.kernelW : 1
        let segments = p.kernelH * p.kernelW / segmentTaps, length = segmentTaps * cinG
        self.segmentTaps = segmentTaps; self.segments = segments
        segmentLength = length
        segmentQuads = (length + 3) / 4
        let taps = (0..<segments).map { $0 * segmentTaps }
        offsets = taps.map { t in ((t / p.kernelW) * p.dilationH * p.inW + (t % p.kernelW) * p.dilationW) * p.inC }
        dy = taps.map { t in (t / p.kernelW) * p.dilationH }
        dx = taps.map { t in (t % p.kernelW) * p.dilationW }
        spanX = (segmentTaps - 1) * p.dilationW
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
    }

    deinit { padding.deallocate() }

    /// Whether the active kernel level runs this form exactly (`PackedGEMMWeights.runsIndirect`).
    var runs: Bool { packed.allSatisfy { $0.runsIndirect(tapLength: segmentQuads * 4) } }
}

extension FastConv2D {
    /// Whether `run` takes the indirect form at the active kernel level.
    var runsIndirect: Bool { indirect?.runs ?? false }

    /// Each thread converts the samples its rows read to bytes (`x - min`), as `run` does, then for
    /// each block of rows points a table at the segments of each 4-row tile and runs the indirect
    /// kernel, then requantizes: the same sums as im2col, so the same outputs.
    func runIndirect(_ input: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int32>, batch: Int, threads: Int) {
        guard let form = indirect else { return }
        let pixels = p.outH * p.outW, sampleSize = p.inH * p.inW * p.inC
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
                        ThreadScratch.withBytes(slot: 2, count: samples.count * sampleSize + 4) { bytes in
                            ThreadScratch.withBytes(slot: 3, count: tableCount * form.segmentQuads * 4) { side in
                                let converted = bytes.bindMemory(to: UInt8.self, capacity: samples.count * sampleSize + 4)
                                let table = tableBytes.bindMemory(to: UnsafePointer<UInt8>?.self, capacity: tableCount)
                                let c = cBytes.bindMemory(to: Int32.self, capacity: blockRows * ldc)
                                convolveIndirect(form, input, converted, samples: samples, rows: range, table: table,
                                                 side: side.bindMemory(to: UInt8.self, capacity: tableCount * form.segmentQuads * 4),
                                                 c: c, ldc: ldc, bias: bias, out)
                            }
                        }
                    }
                }
            }
        }
    }

    @inline(__always)
    private func convolveIndirect(_ form: IndirectConvForm, _ input: UnsafePointer<Int32>, _ converted: UnsafeMutablePointer<UInt8>,
                                  samples: Range<Int>, rows range: Range<Int>, table: UnsafeMutablePointer<UnsafePointer<UInt8>?>,
                                  side: UnsafeMutablePointer<UInt8>, c: UnsafeMutablePointer<Int32>, ldc: Int,
                                  bias: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int32>) {
        let sampleSize = p.inH * p.inW * p.inC, count = samples.count * sampleSize
        let offset = inputOffset, source = input + samples.lowerBound * sampleSize
        qc_offset_u8(source, count, offset, converted)
        for i in count..<(count + 4) { converted[i] = 0 }
        var first = range.lowerBound
        while first < range.upperBound {
            let rows = Swift.min(GEMMScratch.blockRows, range.upperBound - first)
            for g in 0..<p.groups {
                form.offsets.withUnsafeBufferPointer { offsets in
                    form.dy.withUnsafeBufferPointer { dy in
                        form.dx.withUnsafeBufferPointer { dx in
                            segmentTable(form, UnsafePointer(converted), firstSample: samples.lowerBound, rows: first..<first + rows,
                                         group: g, into: table, side: side,
                                         offsets: offsets.baseAddress!, dy: dy.baseAddress!, dx: dx.baseAddress!)
                        }
                    }
                }
                form.packed[g].multiplyIndirect(table: UnsafePointer(table), tiles: (rows + 3) / 4, taps: form.segments,
                                                tapQuads: form.segmentQuads, c: c, ldc: ldc)
                let channel0 = g * p.outChannelsPerGroup
                p.requant.requantizeRows(c, ldc: ldc, rows: rows, channels: p.outChannelsPerGroup,
                                         bias: bias + channel0, firstChannel: channel0,
                                         into: out + (first &* p.outC &+ channel0), outStride: p.outC)
            }
            first += rows
        }
    }

    /// The table for the output pixels `rows` (flat over batch, outY, outX), in tiles of 4:
    /// `table[(tile * segments + s) * 4 + r]` points at segment s of row `4 tile + r`'s patch, for
    /// group `group` (samples from `firstSample` on): in `input` where the segment lies inside the
    /// image, at `form.padding` where it lies in the padding (and for the rows that fill the last tile
    /// past `rows`), else at its values assembled in `side`.
    @inline(__always)
    private func segmentTable(_ form: IndirectConvForm, _ input: UnsafePointer<UInt8>, firstSample: Int, rows: Range<Int>,
                              group: Int, into table: UnsafeMutablePointer<UnsafePointer<UInt8>?>, side: UnsafeMutablePointer<UInt8>,
                              offsets: UnsafePointer<Int>, dy: UnsafePointer<Int>, dx: UnsafePointer<Int>) {
        let segments = form.segments, segmentTaps = form.segmentTaps, cinG = p.inChannelsPerGroup
        let sideStride = form.segmentQuads &* 4
        let inH = p.inH, inW = p.inW, inC = p.inC, outH = p.outH, outW = p.outW
        let strideH = p.strideH, strideW = p.strideW, padTop = p.padTop, padLeft = p.padLeft
        let pad = UnsafePointer(form.padding), fill = form.padding[0]
        let spanX = form.spanX, spanY = dy[segments &- 1], lastX = dx[segments &- 1] &+ spanX
        let count = rows.count, padded = (count &+ 3) & ~3
        var pixel = OutputPixel(row: rows.lowerBound, height: outH, width: outW)
        var sideNext = side
        let step = strideW &* inC, tileSpan = 3 &* strideW &+ lastX
        var i = 0
        while i < padded {
            defer { i &+= 1 }
            let slot = table + ((i >> 2) &* segments &* 4 &+ (i & 3))
            let sample = input + ((pixel.sample &- firstSample) &* inH &* inW &* inC &+ group &* cinG)
            // A whole tile of four pixels of one output row, every patch inside: its rows are `step` apart.
            if i & 3 == 0 && i &+ 4 <= count && pixel.x &+ 3 < outW {
                let originY = pixel.y &* strideH &- padTop, originX = pixel.x &* strideW &- padLeft
                if originY >= 0 && originY &+ spanY < inH && originX >= 0 && originX &+ tileSpan < inW {
                    let origin = sample + (originY &* inW &+ originX) &* inC
                    for s in 0..<segments {
                        let first = origin + offsets[s], tap = slot + s &* 4
                        tap[0] = first; tap[1] = first + step; tap[2] = first + 2 &* step; tap[3] = first + 3 &* step
                    }
                    i &+= 3
                    pixel.advance(by: 4)
                    continue
                }
            }
            if i >= count {
                for s in 0..<segments { slot[s &* 4] = pad }
                continue
            }
            let originY = pixel.y &* strideH &- padTop, originX = pixel.x &* strideW &- padLeft
            if originY >= 0 && originY &+ spanY < inH && originX >= 0 && originX &+ lastX < inW {
                let origin = sample + (originY &* inW &+ originX) &* inC
                for s in 0..<segments { slot[s &* 4] = origin + offsets[s] }
            } else {
                for s in 0..<segments {
                    let y = originY &+ dy[s], x = originX &+ dx[s]
                    if y < 0 || y >= inH || x &+ spanX < 0 || x >= inW {
                        slot[s &* 4] = pad
                    } else if x >= 0 && x &+ spanX < inW {
                        slot[s &* 4] = sample + (y &* inW &+ x) &* inC
                    } else {
                        // Straddles the left or right border (a whole filter row, so dilationW is 1): the
                        // taps inside are one contiguous run of the input, the padding value either side.
                        let inLow = Swift.max(0, 0 &- x), inHigh = Swift.min(segmentTaps, inW &- x)
                        let low = inLow &* cinG, high = inHigh &* cinG
                        let dst = UnsafeMutableRawPointer(sideNext)
                        dst.initializeMemory(as: UInt8.self, repeating: fill, count: low)
                        dst.advanced(by: low).copyMemory(from: sample + (y &* inW &+ x &+ inLow) &* inC, byteCount: high &- low)
                        (dst + high).initializeMemory(as: UInt8.self, repeating: fill, count: form.segmentLength &- high)
                        slot[s &* 4] = UnsafePointer(sideNext)
                        sideNext += sideStride
                    }
                }
            }
            pixel.advance()
        }
    }
}
