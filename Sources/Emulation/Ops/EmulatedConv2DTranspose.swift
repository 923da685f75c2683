/// `conv2DTranspose` with a real-valued rescale: the adjoint of `conv2D` with the same geometry. Input
/// pixel `(inY, inX)` scatters into
///
///     outY = inY * strideH + filterY * dilationH - padTop     (dropped unless 0 <= outY < outH)
///     acc[outY, outX, c] += sum_i (x[inY, inX, i] - zin) * w[c, filterY, filterX, i]
///
/// then `q = clamp(zout + round((bias[c] + acc) * s_x * s_w[c] / s_out))`. Accumulated in Int64
/// (exact); samples run on all cores.
final class EmulatedConv2DTranspose: EmulatedOp {
    let g: ConvGeometry

    init(_ geometry: ConvGeometry) { g = geometry }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let input = inputs[0]
        let g = self.g
        let outCount = g.outH * g.outW * g.outC
        g.weights.withUnsafeBufferPointer { w in
            parallelChunks(batch, costPerItem: g.inH * g.inW * g.kernelH * g.kernelW * g.outC * g.inC) { samples in
                let acc = UnsafeMutablePointer<Int64>.allocate(capacity: outCount)
                defer { acc.deallocate() }
                for b in samples {
                    for i in 0..<outCount { acc[i] = Int64(g.bias[i % g.outC]) }
                    for inY in 0..<g.inH {
                        for inX in 0..<g.inW {
                            let inBase = ((b &* g.inH &+ inY) &* g.inW &+ inX) &* g.inC
                            for filterY in 0..<g.kernelH {
                                let outY = inY &* g.strideH &+ filterY &* g.dilationH &- g.padTop
                                if outY < 0 || outY >= g.outH { continue }
                                for filterX in 0..<g.kernelW {
                                    let outX = inX &* g.strideW &+ filterX &* g.dilationW &- g.padLeft
                                    if outX < 0 || outX >= g.outW { continue }
                                    let outBase = (outY &* g.outW &+ outX) &* g.outC
                                    for outChannel in 0..<g.outC {
                                        let wBase = ((outChannel &* g.kernelH &+ filterY) &* g.kernelW &+ filterX) &* g.inC
                                        var sum: Int64 = 0
                                        for i in 0..<g.inC { sum &+= Int64(input[inBase &+ i] &- g.inputZero) &* Int64(w[wBase &+ i]) }
                                        acc[outBase &+ outChannel] &+= sum
                                    }
                                }
                            }
                        }
                    }
                    let base = b &* outCount
                    for i in 0..<outCount { output[base &+ i] = g.rescale.apply(acc[i], channel: i % g.outC) }
                }
            }
        }
    }
}
