/// `conv2D` with a real-valued rescale:
///
///     acc[c] = bias[c] + sum_{filterY, filterX, i} (x[inY, inX, g * cinG + i] - zin) * w[c, filterY, filterX, i]
///     q      = clamp(zout + round(acc[c] * s_x * s_w[c] / s_out))
///     inY    = outY * strideH + filterY * dilationH - padTop,   g = c / (C / groups)
///
/// Each output pixel gathers its patch of `x - zin` (padding taps are 0: they read real zero) in the
/// weights' `(filterY, filterX, i)` order, then takes one exact dot product per output channel
/// (`exactDot`: Int32 blocks summed in Int64, so no accumulator ever wraps). Rows of output pixels
/// run on all cores.
final class EmulatedConv2D: EmulatedOp {
    let g: ConvGeometry
    /// Patch length of one group: `kernelH * kernelW * cinG`.
    let patchLength: Int
    let block: Int

    init(_ geometry: ConvGeometry) {
        g = geometry
        patchLength = g.kernelH * g.kernelW * g.inChannelsPerGroup
        block = safeBlock(maxA: g.maxInputMagnitude, maxB: g.maxWeightMagnitude)
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let input = inputs[0]
        let g = self.g, patchLength = self.patchLength, block = self.block
        let cinG = g.inChannelsPerGroup, coutG = g.outChannelsPerGroup
        g.weights.withUnsafeBufferPointer { weights in
            parallelChunks(batch * g.outH, costPerItem: g.outW * g.outC * patchLength) { rows in
                let patch = UnsafeMutablePointer<Int32>.allocate(capacity: Swift.max(1, patchLength))
                defer { patch.deallocate() }
                for row in rows {
                    let b = row / g.outH, outY = row % g.outH
                    for outX in 0..<g.outW {
                        let outBase = ((b &* g.outH &+ outY) &* g.outW &+ outX) &* g.outC
                        for group in 0..<g.groups {
                            gatherPatch(input, patch, b: b, outY: outY, outX: outX, channelOffset: group &* cinG)
                            for outChannel in (group &* coutG)..<((group &+ 1) &* coutG) {
                                let dot = exactDot(patch, weights.baseAddress! + outChannel &* patchLength,
                                                   count: patchLength, block: block)
                                output[outBase &+ outChannel] = g.rescale.apply(Int64(g.bias[outChannel]) &+ dot, channel: outChannel)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Writes `x - zin` of the window at (outY, outX), channels `channelOffset ..< + cinG`, into `patch`;
    /// taps outside the input are 0.
    @inline(__always)
    private func gatherPatch(_ input: UnsafeBufferPointer<Int32>, _ patch: UnsafeMutablePointer<Int32>,
                             b: Int, outY: Int, outX: Int, channelOffset: Int) {
        let cinG = g.inChannelsPerGroup
        var k = 0
        for filterY in 0..<g.kernelH {
            let inY = outY &* g.strideH &+ filterY &* g.dilationH &- g.padTop
            for filterX in 0..<g.kernelW {
                let inX = outX &* g.strideW &+ filterX &* g.dilationW &- g.padLeft
                if inY < 0 || inY >= g.inH || inX < 0 || inX >= g.inW {
                    for i in 0..<cinG { patch[k &+ i] = 0 }
                } else {
                    let base = ((b &* g.inH &+ inY) &* g.inW &+ inX) &* g.inC &+ channelOffset
                    for i in 0..<cinG { patch[k &+ i] = input[base &+ i] &- g.inputZero }
                }
                k &+= cinG
            }
        }
    }
}
