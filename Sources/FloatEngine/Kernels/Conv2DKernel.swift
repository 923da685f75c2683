import QCore

/// Conv2D (grouped, strided, dilated, padded) over an NHWC batch as a packed GEMM per group:
/// `M = batch * outH * outW` output pixels, `K = kh * kw * cin / groups`, `N = cout / groups`.
/// A is gathered from the image while packing (implicit im2col); a 1x1 stride-1 unpadded conv reads
/// the input as a plain matrix. Bias and linear/relu/relu6 are applied in the micro-kernel's store.
public final class Conv2DKernel: @unchecked Sendable {
    public let outputShape: [Int]
    let geometry: ConvGeometry
    let inH: Int, inW: Int, inChannels: Int, groups: Int, groupChannels: Int
    let outChannels: Int
    let weights: PackedWeights
    let blocking: GEMMBlocking
    let epilogue: GEMMEpilogue
    let postActivation: Activation?
    /// True for 1x1, stride 1, no padding: the input already is A.
    let readsInputDirectly: Bool
    /// `ConvPatchSource.patchOffsets` for this geometry.
    let patchOffsets: UnsafeMutablePointer<Int>
    /// The indirect form's tap distances and zeros.
    let taps: ConvTapTable
    /// Set for a stem read from a zero-padded copy of each sample (see `PaddedImagePlan`).
    let paddedImage: PaddedImagePlan?
    /// Set for the other convolutions that are not a 1x1 matrix, strided ones only with whole 16-column
    /// panels: A from padded images (see `PaddedPatchPlan`).
    let paddedPatches: PaddedPatchPlan?

    /// `inputShape` is `[H, W, C]` per sample. Packs the weights.
    public init(_ conv: Conv2D, inputShape: [Int]) {
        precondition(inputShape.count == 3, "Conv2DKernel: input shape \(inputShape) is not [H, W, C]")
        let g = conv.geometry
        geometry = g
        inH = inputShape[0]; inW = inputShape[1]; inChannels = inputShape[2]
        groups = conv.groups
        groupChannels = conv.weights.shape[2]
        precondition(groupChannels * groups == inChannels, "Conv2DKernel: weights \(conv.weights.shape) x \(groups) groups do not match input \(inputShape)")
        outChannels = conv.outChannels
        let out = g.outputSize(inH: inH, inW: inW)
        outputShape = [out.h, out.w, outChannels]
        let groupOut = outChannels / groups
        let k = g.kernelH * g.kernelW * groupChannels
        let cout = conv.outChannels
        weights = conv.weights.data.withUnsafeBufferPointer { w in
            PackedWeights(k: k, n: groupOut, groups: conv.groups, bias: conv.bias) { group, kk, j in
                w[kk * cout + group * groupOut + j]
            }
        }
        readsInputDirectly = g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1
            && g.padding == .zero
        // Whole taps per K block, so that the indirect kernel can read a block through its row table.
        blocking = GEMMBlocking(k: k, granule: readsInputDirectly ? 1 : groupChannels)
        (epilogue, postActivation) = GEMMEpilogue.split(conv.activation)
        let offsets = ConvPatchSource.patchOffsets(geometry: g, inW: inputShape[1], channels: inputShape[2],
                                                   groupChannels: conv.weights.shape[2])
        patchOffsets = .allocate(capacity: max(offsets.count, 1))
        patchOffsets.initialize(from: offsets, count: offsets.count)
        taps = ConvTapTable(geometry: g, channels: groupChannels)
        paddedImage = readsInputDirectly ? nil
            : PaddedImagePlan(geometry: g, inH: inH, inW: inW, channels: inChannels, groups: groups, outH: out.h,
                              outW: out.w, weights: weights, blocking: blocking)
        let strided = g.strideH != 1 || g.strideW != 1
        paddedPatches = readsInputDirectly || paddedImage != nil || (strided && groupOut % GEMMTile.nr != 0) ? nil
            : PaddedPatchPlan(geometry: g, inH: inH, inW: inW, channels: inChannels, groupChannels: groupChannels,
                              outH: out.h, outW: out.w)
    }

    deinit { patchOffsets.deallocate() }

    /// Scratch is allocated per worker inside `run`.
    public func workspaceCount(batch: Int) -> Int { 0 }

    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    workspace: UnsafeMutablePointer<Float>) {
        run(input: input, output: output, batch: batch, workspace: workspace, tail: nil)
    }

    /// `tail` (only without an activation left after the GEMM) maps each finished row block in cache.
    /// `head` (only for a stem read from padded images) maps the input as each sample is copied.
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>, tail: ChannelTail?) {
        run(input: input, output: output, batch: batch, workspace: workspace, tail: tail, head: nil)
    }

    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>, tail: ChannelTail?, head: ChannelAffineLayer?) {
        precondition(tail == nil || postActivation == nil, "Conv2DKernel: a tail follows the activation")
        precondition(head == nil || paddedImage != nil, "Conv2DKernel: only a stem read from padded images takes a head")
        let m = batch * outputShape[0] * outputShape[1]
        let groupOut = outChannels / groups
        let work = m * weights.k * outChannels
        if let paddedImage {
            runPaddedImage(paddedImage, input: input, output: output, m: m, work: work, tail: tail, head: head)
        } else if readsInputDirectly {
            let source = MatrixSource(a: input, lda: inChannels, groupStride: groupChannels)
            runGEMM(source, m: m, work: work, groupOut: groupOut, output: output, tail: tail)
        } else if let paddedPatches, readsPaddedPatches(batch: batch) {
            runPaddedPatches(paddedPatches, input: input, output: output, m: m, work: work, groupOut: groupOut, tail: tail)
        } else {
            let source = ConvPatchSource(input: input, inH: inH, inW: inW, channels: inChannels,
                                         groupChannels: groupChannels, outH: outputShape[0],
                                         outW: outputShape[1], geometry: geometry, offsets: patchOffsets,
                                         taps: taps)
            runGEMM(source, m: m, work: work, groupOut: groupOut, output: output, tail: tail)
        }
        if let postActivation {
            ActivationKernel.apply(postActivation, to: output, count: m * outChannels, channels: outChannels)
        }
    }

    private func runGEMM<Source: GEMMPanelSource>(_ source: Source, m: Int, work: Int, groupOut: Int,
                                                  output: UnsafeMutablePointer<Float>, tail: ChannelTail?) {
        forEachRowChunk(m: m, work: work, scratchCount: blocking.scratchCount) { rows, scratch in
            for group in 0..<self.groups {
                gemmRows(source, rows: rows, weights: self.weights, group: group, blocking: self.blocking,
                         c: output + group * groupOut, ldc: self.outChannels, epilogue: self.epilogue,
                         scratch: scratch, tail: tail)
            }
        }
    }
}

/// Dense over the last axis: `rows` vectors per sample, `batch * rows` GEMM rows of `in` features.
public final class DenseKernel: @unchecked Sendable {
    public let rows: Int
    public let inFeatures: Int, outFeatures: Int
    let weights: PackedWeights
    let blocking: GEMMBlocking
    let epilogue: GEMMEpilogue
    let postActivation: Activation?

    /// `rows` is the product of every input dimension but the last, per sample. Packs the weights.
    public init(_ dense: Dense, rows: Int) {
        self.rows = rows
        inFeatures = dense.inFeatures; outFeatures = dense.outFeatures
        let out = outFeatures
        weights = dense.weights.data.withUnsafeBufferPointer { w in
            PackedWeights(k: dense.inFeatures, n: out, groups: 1, bias: dense.bias) { _, kk, j in w[kk * out + j] }
        }
        blocking = GEMMBlocking(k: dense.inFeatures)
        (epilogue, postActivation) = GEMMEpilogue.split(dense.activation)
    }

    /// Scratch is allocated per worker inside `run`.
    public func workspaceCount(batch: Int) -> Int { 0 }

    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    workspace: UnsafeMutablePointer<Float>) {
        run(input: input, output: output, batch: batch, workspace: workspace, tail: nil)
    }

    /// `tail` (only without an activation left after the GEMM) maps each finished row block in cache.
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>, tail: ChannelTail?) {
        precondition(tail == nil || postActivation == nil, "DenseKernel: a tail follows the activation")
        let m = batch * rows
        let source = MatrixSource(a: input, lda: inFeatures, groupStride: 0)
        forEachRowChunk(m: m, work: m * inFeatures * outFeatures, scratchCount: blocking.scratchCount) { rows, scratch in
            gemmRows(source, rows: rows, weights: self.weights, group: 0, blocking: self.blocking,
                     c: output, ldc: self.outFeatures, epilogue: self.epilogue, scratch: scratch, tail: tail)
        }
        if let postActivation {
            ActivationKernel.apply(postActivation, to: output, count: m * outFeatures, channels: outFeatures)
        }
    }
}
