import QCore

/// Conv2DTranspose as a GEMM over output pixels: each output pixel gathers the input pixels that a
/// forward conv with the same geometry would have spread onto it (see `TransposedConvSource`).
/// `M = batch * outputH * outputW`, `K = kh * kw * cin`, `N = cout`; weights
/// `[kh, kw, cout, cin]` are transposed to `B[(ky, kx, i)][o]` when packed.
///
/// With stride s only about 1/s^2 of the gathered taps are non-zero, so this spends s^2 more
/// multiply-adds than a scatter form; it needs no workspace and reuses the conv GEMM unchanged.
public final class Conv2DTransposeKernel: @unchecked Sendable {
    public let outputShape: [Int]
    let geometry: ConvGeometry
    let inH: Int, inW: Int, inChannels: Int, outChannels: Int
    let weights: PackedWeights
    let blocking: GEMMBlocking
    let epilogue: GEMMEpilogue
    let postActivation: Activation?
    /// The indirect form's tap distances and zeros.
    let taps: ConvTapTable

    /// `inputShape` is `[H, W, C]` per sample; the output is `conv.outputH x conv.outputW x cout`.
    public init(_ conv: Conv2DTranspose, inputShape: [Int]) {
        precondition(inputShape.count == 3 && inputShape[2] == conv.inChannels,
                     "Conv2DTransposeKernel: input shape \(inputShape) does not match weights \(conv.weights.shape)")
        geometry = conv.geometry
        inH = inputShape[0]; inW = inputShape[1]; inChannels = inputShape[2]
        outChannels = conv.outChannels
        outputShape = [conv.outputH, conv.outputW, outChannels]
        let cin = inChannels, cout = outChannels
        let k = conv.geometry.kernelH * conv.geometry.kernelW * cin
        weights = conv.weights.data.withUnsafeBufferPointer { w in
            PackedWeights(k: k, n: cout, groups: 1, bias: conv.bias) { _, kk, o in
                let tap = kk / cin, i = kk % cin
                return w[(tap * cout + o) * cin + i]
            }
        }
        // Whole taps per K block, so that the indirect kernel can read a block through its row table.
        blocking = GEMMBlocking(k: k, granule: cin)
        (epilogue, postActivation) = GEMMEpilogue.split(conv.activation)
        taps = ConvTapTable(geometry: conv.geometry, channels: cin)
    }

    /// Scratch is allocated per worker inside `run`.
    public func workspaceCount(batch: Int) -> Int { 0 }

    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    workspace: UnsafeMutablePointer<Float>) {
        let m = batch * outputShape[0] * outputShape[1]
        let source = TransposedConvSource(input: input, inH: inH, inW: inW, channels: inChannels,
                                          outH: outputShape[0], outW: outputShape[1], geometry: geometry,
                                          taps: taps)
        forEachRowChunk(m: m, work: m * weights.k * outChannels, scratchCount: blocking.scratchCount) { rows, scratch in
            gemmRows(source, rows: rows, weights: self.weights, group: 0, blocking: self.blocking,
                     c: output, ldc: self.outChannels, epilogue: self.epilogue, scratch: scratch)
        }
        if let postActivation {
            ActivationKernel.apply(postActivation, to: output, count: m * outChannels, channels: outChannels)
        }
    }
}
