import CKernels
import QCore

/// DepthwiseConv2D as a direct loop over output pixels, vectorised over channels (the C row kernel
/// `qc_depthwise_row_f32`, per instruction-set level) and parallel over `batch * outH` output rows.
///
/// Output channel `o = c * multiplier + m` reads input channel `c`. With a multiplier above 1 each
/// worker first expands the sample it works on to `H x W x (C * multiplier)` (every input value
/// repeated `multiplier` times), so the inner loop is the same channel-aligned multiply-add.
public final class DepthwiseConv2DKernel: @unchecked Sendable {
    public let outputShape: [Int]
    let geometry: ConvGeometry
    let inH: Int, inW: Int, inChannels: Int, multiplier: Int, outChannels: Int
    /// `[kh * kw][outChannels]`: Keras' `[kh, kw, cin, multiplier]` flattened is already this order.
    let weights: UnsafeMutablePointer<Float>
    let bias: UnsafeMutablePointer<Float>
    let epilogue: GEMMEpilogue
    let postActivation: Activation?

    /// `inputShape` is `[H, W, C]` per sample.
    public init(_ conv: DepthwiseConv2D, inputShape: [Int]) {
        precondition(inputShape.count == 3 && inputShape[2] == conv.inChannels,
                     "DepthwiseConv2DKernel: input shape \(inputShape) does not match weights \(conv.weights.shape)")
        geometry = conv.geometry
        inH = inputShape[0]; inW = inputShape[1]; inChannels = inputShape[2]
        multiplier = conv.multiplier
        outChannels = conv.outChannels
        let out = conv.geometry.outputSize(inH: inH, inW: inW)
        outputShape = [out.h, out.w, outChannels]
        let packed = alignedFloats(conv.weights.count), packedBias = alignedFloats(conv.outChannels)
        conv.weights.data.withUnsafeBufferPointer { packed.initialize(from: $0.baseAddress!, count: $0.count) }
        conv.bias.withUnsafeBufferPointer { packedBias.initialize(from: $0.baseAddress!, count: $0.count) }
        weights = packed
        bias = packedBias
        (epilogue, postActivation) = GEMMEpilogue.split(conv.activation)
    }

    deinit {
        weights.deallocate()
        bias.deallocate()
    }

    /// Scratch (the expanded sample when `multiplier > 1`) is allocated per worker inside `run`.
    public func workspaceCount(batch: Int) -> Int { 0 }

    public func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
                    workspace: UnsafeMutablePointer<Float>) {
        run(input: input, output: output, batch: batch, workspace: workspace, tail: nil)
    }

    /// `tail` (only without an activation left after the kernel) maps each output row in cache.
    func run(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>, tail: ChannelTail?) {
        precondition(tail == nil || postActivation == nil, "DepthwiseConv2DKernel: a tail follows the activation")
        let outH = outputShape[0], outW = outputShape[1]
        let rows = batch * outH
        let work = rows * outW * outChannels * geometry.kernelH * geometry.kernelW
        let chunks = work < GEMMTile.minParallelWork ? 1 : min(Parallel.workers, rows)
        let sampleIn = inH * inW * inChannels, sampleExpanded = inH * inW * outChannels
        Parallel.forEach(chunks) { chunk in
            let range = Parallel.alignedRange(chunk, chunks: chunks, count: rows, alignment: 1)
            guard !range.isEmpty else { return }
            // Eight floats of slack: `expand` stores whole 8-lane vectors.
            let expanded: UnsafeMutablePointer<Float>? = self.multiplier > 1 ? alignedFloats(sampleExpanded + 8) : nil
            defer { expanded?.deallocate() }
            var expandedSample = -1
            for row in range {
                let n = row / outH, outY = row % outH
                var sample = input + n * sampleIn
                if let expanded {
                    if expandedSample != n { self.expand(sample, into: expanded); expandedSample = n }
                    sample = UnsafePointer(expanded)
                }
                let rowOutput = output + row * outW * self.outChannels
                self.convolveRow(sample: sample, outY: outY, output: rowOutput)
                tail?.apply(rowOutput, rows: outW, ldc: self.outChannels, channel0: 0, count: self.outChannels)
            }
        }
        if let postActivation {
            ActivationKernel.apply(postActivation, to: output, count: rows * outW * outChannels, channels: outChannels)
        }
    }

    /// Repeats every input value `multiplier` times so channel `o` of the result is input channel
    /// `o / multiplier`: each value as 8-lane stores of its copies (the next value's stores overwrite
    /// the excess; `dst` has 8 floats of slack), not `multiplier` single stores in a loop (17 % of
    /// dwsep_relu6, multiplier 2).
    private func expand(_ sample: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        let m = multiplier
        var d = dst
        for i in 0..<(inH &* inW &* inChannels) {
            let v = SIMD8<Float>(repeating: sample[i])
            var j = 0
            repeat {
                store8(v, d + j)
                j &+= 8
            } while j < m
            d += m
        }
    }

    /// One output row; `sample` is `H x W x outChannels` (already expanded when multiplier > 1).
    @inline(__always)
    private func convolveRow(sample: UnsafePointer<Float>, outY: Int, output: UnsafeMutablePointer<Float>) {
        let g = geometry
        qc_depthwise_row_f32(sample, inH, inW, outChannels, weights, bias, g.kernelH, g.kernelW, g.strideH, g.strideW,
                             g.dilationH, g.dilationW, g.padding.top, g.padding.left, outY, outputShape[1], output,
                             epilogue.clamps ? 1 : 0, epilogue.lo, epilogue.hi)
    }
}
