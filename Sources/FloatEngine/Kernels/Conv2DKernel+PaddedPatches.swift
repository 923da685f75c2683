import CKernels
import QCore

/// How a convolution that is neither a stem (`PaddedImagePlan`) nor a 1x1 matrix reads A: from an
/// image of each sample with its padding written as zeros around it, `height` rows of `width`
/// pixels, as far as any tap reaches. Every patch then lies inside: output pixel `(y, x)` has its
/// patch origin at image pixel `(y * strideH, x * strideW)`, and column `k` reads `offsets[k]` floats
/// from there, with no bounds checks. The indirect kernel's row table is six origins plus one offset
/// per tap; without the image, building it checked every tap of every border pixel (9-15 % of
/// resnet_bn and mini_xception, whose 7- to 14-pixel rows are mostly border). Padding taps read 0
/// in both forms and the k order is the same, so the floats are too. A strided convolution reads
/// padded images only when its outputs fill 16-column panels: their images hold 2-4x as many pixels
/// as their outputs, which the avx512 patch rows (12 pixels per call) repay (resnet_bn's b2_a_conv,
/// 32 outputs), but with a half panel run 6 rows at a time the copies cost what the tables saved
/// (tv_cnn_plain's conv2, 24 outputs, ran 3 % slower).
final class PaddedPatchPlan: @unchecked Sendable {
    let height: Int, width: Int
    /// False when no tap reaches outside the input (no padding): the input is the image, uncopied.
    let copies: Bool
    /// `offsets[k]` for `k = (ky * kernelW + kx) * groupChannels + i`: `(ky * dilationH * width + kx * dilationW) * C + i`.
    let offsets: UnsafeMutablePointer<Int>
    let k: Int

    /// Most floats of images a worker copies per call (1 MiB, half of this Zen 4's L2); a larger
    /// batch (an observed run's whole `maxBatch`) reads the unpadded input. Tests set it to -1 to
    /// run that form everywhere.
    nonisolated(unsafe) static var maxFloats = 1 << 18

    init(geometry g: ConvGeometry, inH: Int, inW: Int, channels: Int, groupChannels: Int, outH: Int, outW: Int) {
        let reachH = (outH - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1
        let reachW = (outW - 1) * g.strideW + (g.kernelW - 1) * g.dilationW + 1
        height = max(g.padding.top + inH, reachH)
        width = max(g.padding.left + inW, reachW)
        copies = height != inH || width != inW || g.padding.top != 0 || g.padding.left != 0
        let offsets = ConvPatchSource.patchOffsets(geometry: g, inW: width, channels: channels, groupChannels: groupChannels)
        k = offsets.count
        self.offsets = .allocate(capacity: max(k, 1))
        self.offsets.initialize(from: offsets, count: k)
    }

    deinit { offsets.deallocate() }

    /// Floats of one sample's image.
    func imageFloats(channels: Int) -> Int { height * width * channels }

    /// Copies samples `samples` of `input` (NHWC, `inH x inW x channels`) into consecutive images at
    /// `images`, the padding zero: the input at rows `padTop ..< padTop + inH`, columns
    /// `padLeft ..< padLeft + inW` (clipped to the image), zeros elsewhere.
    func copy(_ input: UnsafePointer<Float>, samples: Range<Int>, inH: Int, inW: Int, channels c: Int,
              padTop: Int, padLeft: Int, into images: UnsafeMutablePointer<Float>) {
        let rowFloats = width * c, imageFloats = height * rowFloats
        let rows = min(inH, height - padTop), columns = min(inW, width - padLeft)
        let left = padLeft * c, right = (width - padLeft - columns) * c
        for (index, n) in samples.enumerated() {
            let image = images + index * imageFloats, sample = input + n * inH * inW * c
            image.update(repeating: 0, count: padTop * rowFloats)
            for y in 0..<rows {
                let row = image + (padTop + y) * rowFloats
                row.update(repeating: 0, count: left)
                (row + left).update(from: sample + y * inW * c, count: columns * c)
                (row + left + columns * c).update(repeating: 0, count: right)
            }
            (image + (padTop + rows) * rowFloats).update(repeating: 0, count: (height - padTop - rows) * rowFloats)
        }
    }
}

/// The patches of a convolution read from `PaddedPatchPlan` images: row
/// `m = (n * outH + outY) * outW + outX`, column `k = (ky * kernelW + kx) * groupChannels + i`, as
/// `ConvPatchSource`; sample `n`'s image starts at `images + (n - firstSample) * imageFloats`.
struct PaddedPatchSource: GEMMPanelSource {
    let images: UnsafePointer<Float>
    let firstSample: Int
    let imageFloats: Int
    let channels: Int, groupChannels: Int
    let outH: Int, outW: Int
    /// Floats between the patch origins of vertically / horizontally adjacent output pixels.
    let stepY: Int, stepX: Int
    let offsets: UnsafePointer<Int>

    @inline(__always)
    func origin(_ pixel: OutputPixel, group: Int) -> UnsafePointer<Float> {
        images + ((pixel.sample &- firstSample) &* imageFloats &+ pixel.y &* stepY &+ pixel.x &* stepX
                  &+ group &* groupChannels)
    }

    /// Six pixels of one output row: row r, column k reads `origin + r * stepX + offsets[k]`.
    @inline(__always)
    func inPlacePanel(m0: Int, rows: Int, k0: Int, group: Int) -> PanelA? {
        let pixel = OutputPixel(row: m0, height: outH, width: outW)
        guard rows == GEMMTile.mr && pixel.x &+ (GEMMTile.mr &- 1) < outW else { return nil }
        return PanelA(base: origin(pixel, group: group), step: stepX, offsets: offsets + k0)
    }

    /// Six origins plus each tap's offset; rows past `rows` read row 0's patch (the edge tile drops them).
    @inline(__always)
    func indirectPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int,
                       table: UnsafeMutablePointer<UnsafePointer<Float>?>) -> PanelA? {
        // Whole taps only (the kernel's blocking guarantees it; anything else packs).
        guard groupChannels >= GEMMTile.indirectMinChannels, k0 % groupChannels == 0, kc % groupChannels == 0 else { return nil }
        let mr = GEMMTile.mr, tap0 = k0 / groupChannels, tapCount = kc / groupChannels
        var pixel = OutputPixel(row: m0, height: outH, width: outW)
        let first = origin(pixel, group: group)
        for r in 0..<mr {
            let o = r < rows ? origin(pixel, group: group) : first
            for t in 0..<tapCount { table[t &* mr &+ r] = o + offsets[(tap0 &+ t) &* groupChannels] }
            if r &+ 1 < rows { pixel.advance() }
        }
        return .indirect(UnsafePointer(table), cin: groupChannels, zeros: first)
    }

    /// Every row's origin: a block of rows in one `qc_sgemm_patch_rows` call, whether its pixels share
    /// an output row or not (relu_logits_k2's 11-pixel rows split half of the 6-pixel panels, each
    /// then one Swift call and a row table of six pointers per tap).
    @inline(__always)
    func patchRows(m0: Int, count: Int, k0: Int, kc: Int, group: Int,
                   origins: UnsafeMutablePointer<UnsafePointer<Float>?>) -> (offsets: UnsafePointer<Int>, cin: Int)? {
        // Whole taps only (the kernel's blocking guarantees it), as the indirect form.
        guard groupChannels >= GEMMTile.indirectMinChannels, k0 % groupChannels == 0, kc % groupChannels == 0,
              kc / groupChannels <= Int(QC_PATCH_MAX_TAPS) else { return nil }
        var pixel = OutputPixel(row: m0, height: outH, width: outW)
        var r = 0
        while r < count {
            // The rest of this output row: origins `stepX` apart.
            let run = min(count &- r, outW &- pixel.x)
            var o = origin(pixel, group: group)
            for i in 0..<run {
                origins[r &+ i] = o
                o += stepX
            }
            r &+= run
            pixel.advance(by: run)
        }
        return (offsets + k0, groupChannels)
    }

    @inline(__always)
    func packPanel(m0: Int, rows: Int, k0: Int, kc: Int, group: Int, into dst: UnsafeMutablePointer<Float>) {
        let mr = GEMMTile.mr, kEnd = k0 &+ kc
        var pixel = OutputPixel(row: m0, height: outH, width: outW)
        for r in 0..<mr {
            var d = dst + r
            if r >= rows {
                for _ in 0..<kc { d.pointee = 0; d += mr }
                continue
            }
            let o = origin(pixel, group: group)
            for k in k0..<kEnd { d.pointee = o[offsets[k]]; d += mr }
            if r &+ 1 < rows { pixel.advance() }
        }
    }
}

extension Conv2DKernel {
    /// True when `runPaddedPatches` takes a batch of `batch` samples (its copies within budget).
    func readsPaddedPatches(batch: Int) -> Bool {
        guard let plan = paddedPatches else { return false }
        return (plan.copies ? batch * plan.imageFloats(channels: inChannels) : 0) <= PaddedPatchPlan.maxFloats
    }

    /// The GEMM over `m` output rows with A from `plan`'s images: each worker copies the samples its
    /// rows touch (unless the input is the image) and runs `gemmRows` on them.
    func runPaddedPatches(_ plan: PaddedPatchPlan, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                          m: Int, work: Int, groupOut: Int, tail: ChannelTail?) {
        let g = geometry, c = inChannels, outH = outputShape[0], outW = outputShape[1]
        let pixels = outH * outW, imageFloats = plan.imageFloats(channels: c)
        forEachRowChunk(m: m, work: work, scratchCount: blocking.scratchCount) { rows, scratch in
            let samples = (rows.lowerBound / pixels)..<((rows.upperBound - 1) / pixels + 1)
            var images = input, firstSample = 0, copy: UnsafeMutablePointer<Float>? = nil
            if plan.copies {
                let buffer = alignedFloats(samples.count * imageFloats)
                plan.copy(input, samples: samples, inH: inH, inW: inW, channels: c, padTop: g.padding.top,
                          padLeft: g.padding.left, into: buffer)
                images = UnsafePointer(buffer); firstSample = samples.lowerBound; copy = buffer
            }
            defer { copy?.deallocate() }
            let source = PaddedPatchSource(images: images, firstSample: firstSample, imageFloats: imageFloats,
                                           channels: c, groupChannels: groupChannels, outH: outH, outW: outW,
                                           stepY: g.strideH * plan.width * c, stepX: g.strideW * c,
                                           offsets: plan.offsets)
            for group in 0..<self.groups {
                gemmRows(source, rows: rows, weights: self.weights, group: group, blocking: self.blocking,
                         c: output + group * groupOut, ldc: self.outChannels, epilogue: self.epilogue,
                         scratch: scratch, tail: tail)
            }
        }
    }
}
