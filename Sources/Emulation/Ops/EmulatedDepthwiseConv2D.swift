/// `depthwiseConv2D` with a real-valued rescale; output channel `c` reads input channel `c / dm`:
///
///     acc[c] = bias[c] + sum_{filterY, filterX} (x[inY, inX, c / dm] - zin) * w[c, filterY, filterX]
///     q      = clamp(zout + round(acc[c] * s_x * s_w[c] / s_out))
///
/// Geometry as `conv2D` (padding taps read real zero and are skipped). The weights are transposed to
/// `[tap][c]` so the channel loop is contiguous; the tap sums are Int32, exact while
/// `taps * max|x - zin| * max|w| < 2^31` (checked by the builder; 65,000 taps at 8 bits).
final class EmulatedDepthwiseConv2D: EmulatedOp {
    let g: ConvGeometry
    /// `[kernelH * kernelW][outC]`.
    let tapWeights: [Int32]

    init(_ geometry: ConvGeometry) {
        g = geometry
        let taps = g.kernelH * g.kernelW
        var t = [Int32](repeating: 0, count: taps * g.outC)
        for c in 0..<g.outC { for tap in 0..<taps { t[tap * g.outC + c] = g.weights[c * taps + tap] } }
        tapWeights = t
    }

    func run(inputs: [UnsafeBufferPointer<Int32>], output: UnsafeMutableBufferPointer<Int32>, batch: Int) {
        let input = inputs[0]
        let g = self.g
        tapWeights.withUnsafeBufferPointer { w in
            parallelChunks(batch * g.outH, costPerItem: g.outW * g.outC * g.kernelH * g.kernelW) { rows in
                let acc = UnsafeMutablePointer<Int32>.allocate(capacity: g.outC)
                defer { acc.deallocate() }
                let dm = g.depthMultiplier
                for row in rows {
                    let b = row / g.outH, outY = row % g.outH
                    for outX in 0..<g.outW {
                        acc.initialize(repeating: 0, count: g.outC)
                        for filterY in 0..<g.kernelH {
                            let inY = outY &* g.strideH &+ filterY &* g.dilationH &- g.padTop
                            if inY < 0 || inY >= g.inH { continue }
                            for filterX in 0..<g.kernelW {
                                let inX = outX &* g.strideW &+ filterX &* g.dilationW &- g.padLeft
                                if inX < 0 || inX >= g.inW { continue }
                                let inBase = ((b &* g.inH &+ inY) &* g.inW &+ inX) &* g.inC
                                let wBase = (filterY &* g.kernelW &+ filterX) &* g.outC
                                if dm == 1 {
                                    for c in 0..<g.outC { acc[c] &+= (input[inBase &+ c] &- g.inputZero) &* w[wBase &+ c] }
                                } else {
                                    for c in 0..<g.outC { acc[c] &+= (input[inBase &+ c / dm] &- g.inputZero) &* w[wBase &+ c] }
                                }
                            }
                        }
                        let outBase = ((b &* g.outH &+ outY) &* g.outW &+ outX) &* g.outC
                        for c in 0..<g.outC {
                            output[outBase &+ c] = g.rescale.apply(Int64(g.bias[c]) &+ Int64(acc[c]), channel: c)
                        }
                    }
                }
            }
        }
    }
}
