import CKernels
import QCore

/// How a convolution with few input channels (a stem: fewer than `GEMMTile.indirectMinChannels`,
/// one group, one K block, N <= 32) reads A: each sample is copied once into a zero-padded image,
/// `height` rows of `width` pixels, wide enough that the six pixels of every micro-panel of an output
/// row lie inside it, so every panel is read in place, `A[r][k] = base[r * strideW * C + offsets[k]]`.
/// Packing such panels (54 single floats for a 3x3 1-channel stem, whose 14- or 28-pixel output rows
/// split most 6-pixel panels across rows or into the padding) cost 15-19 % of sepconv_wide and
/// ops_zoo; a row table with one pointer per 1-21 floats of filter row cost as much. The same k
/// order as the packed form, and a tap in the padding reads 0 in both, so the same floats.
struct PaddedImagePlan {
    let height: Int, width: Int
    /// `offsets[k]` for `k = (ky * kernelW + kx) * C + i`: `(ky * dilationH * width + kx * dilationW) * C + i`.
    let offsets: [Int]

    /// Largest padded image, in floats, worth a per-worker buffer (a 224 x 224 x 3 image is 160 k).
    static let maxFloats = 1 << 20

    /// Nil where the convolution does not qualify (see the type's summary).
    init?(geometry g: ConvGeometry, inH: Int, inW: Int, channels: Int, groups: Int, outH: Int, outW: Int,
          weights: PackedWeights, blocking: GEMMBlocking) {
        guard groups == 1, channels < GEMMTile.indirectMinChannels, blocking.kBlocks == 1,
              weights.panels <= GEMMTile.inPlaceMaxPanels, outH > 0, outW > 0 else { return nil }
        // A row's last panel may start at its last pixel (when a worker's rows begin mid-row) and read
        // five pixels past it (the kernel's extra rows, dropped).
        width = max(g.padding.left + inW, (outW + GEMMTile.mr - 2) * g.strideW + (g.kernelW - 1) * g.dilationW + 1)
        height = max(g.padding.top + inH, (outH - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1)
        guard height * width * channels <= Self.maxFloats else { return nil }
        var offsets: [Int] = []
        for ky in 0..<g.kernelH {
            for kx in 0..<g.kernelW {
                for i in 0..<channels { offsets.append((ky * g.dilationH * width + kx * g.dilationW) * channels + i) }
            }
        }
        self.offsets = offsets
    }

    /// Floats of per-worker scratch: the padded image.
    func scratchCount(channels: Int) -> Int { height * width * channels }
}

extension Conv2DKernel {
    /// The `m` output rows through `plan` (see `PaddedImagePlan`), split over workers as the GEMM is.
    /// Per worker and sample, the input is copied into the zero-padded image in its scratch (the
    /// padding written once per call), then each output row runs in one `qc_sgemm_row_inplace` call (its
    /// 6-pixel panels against every B panel, 12 pixels per call at avx512; one Swift call per micro-tile
    /// was a fifth of a stem's time), then `tail` maps the row unless the micro-kernels applied it.
    /// `head`, when given, maps the input values as they are copied
    /// (a Rescaling or BatchNormalization before the stem; the padding stays 0, as it is after them).
    func runPaddedImage(_ plan: PaddedImagePlan, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                        m: Int, work: Int, tail: ChannelTail?, head: ChannelAffineLayer?) {
        plan.offsets.withUnsafeBufferPointer { offsets in
            forEachRowChunk(m: m, work: work, scratchCount: plan.scratchCount(channels: inChannels)) { rows, scratch in
                runPaddedImage(plan, offsets: offsets.baseAddress!, input: input, output: output, rows: rows,
                               scratch: scratch, tail: tail, head: head)
            }
        }
    }

    private func runPaddedImage(_ plan: PaddedImagePlan, offsets: UnsafePointer<Int>, input: UnsafePointer<Float>,
                                output: UnsafeMutablePointer<Float>, rows: Range<Int>,
                                scratch: UnsafeMutablePointer<Float>, tail: ChannelTail?, head: ChannelAffineLayer?) {
        let g = geometry, clamps: Int32 = epilogue.clamps ? 1 : 0
        let outH = outputShape[0], outW = outputShape[1], c = inChannels, ldc = outChannels
        let image = scratch, imageFloats = plan.height * plan.width * c
        image.initialize(repeating: 0, count: imageFloats)
        let rowFloats = plan.width * c, step = g.strideW * c
        // Input rows and columns that land inside the padded image.
        let copyRows = min(inH, plan.height - g.padding.top), copyFloats = min(inW, plan.width - g.padding.left) * c
        let a0 = image + (g.padding.top * plan.width + g.padding.left) * c
        var m = rows.lowerBound
        while m < rows.upperBound {
            let sampleIndex = m / (outH * outW)
            let sampleEnd = min(rows.upperBound, (sampleIndex + 1) * outH * outW)
            let sample = input + sampleIndex * inH * inW * c
            for y in 0..<copyRows {
                if let head {
                    head.apply(sample + y * inW * c, a0 + y * rowFloats, pixels: copyFloats / c)
                } else {
                    (a0 + y * rowFloats).update(from: sample + y * inW * c, count: copyFloats)
                }
            }
            while m < sampleEnd {
                let pixel = m - sampleIndex * outH * outW
                let outY = pixel / outW, x0 = pixel - outY * outW
                let x1 = min(outW, x0 + (sampleEnd - m))
                let rowBase = image + outY * g.strideH * rowFloats
                // Pixels x0 ..< x1 of the row, every 6-pixel group and B panel, in one C call.
                ChannelTail.withKernelTail(tail, channel0: 0) { kernelTail in
                    qc_sgemm_row_inplace(x1 - x0, weights.k, rowBase + x0 * step, step, offsets,
                                         weights.panel(group: 0, index: 0), weights.panels, weights.n, output + m * ldc,
                                         ldc, weights.bias(group: 0, index: 0), clamps, epilogue.lo, epilogue.hi, kernelTail)
                }
                // Per output row: the row just stored is still in L1 (a whole sample's rows were not).
                if let tail, !tail.appliesInKernel {
                    tail.apply(output + m * ldc, rows: x1 - x0, ldc: ldc, channel0: 0, count: outChannels)
                }
                m += x1 - x0
            }
        }
    }
}
