import QCore

/// Max or average pooling over NHWC windows. Average pooling divides by the number of window
/// pixels that lie inside the input (TensorFlow's rule for `same` padding); max pooling ignores
/// padded pixels.
final class Pool2DLayer: FloatLayer {
    enum Kind { case max, average }
    let kind: Kind
    let geometry: ConvGeometry
    let inH: Int, inW: Int, channels: Int
    let outH: Int, outW: Int

    init(kind: Kind, pool: Pool2D, inputShape: [Int], outputShape: [Int]) {
        self.kind = kind
        geometry = pool.geometry
        inH = inputShape[0]; inW = inputShape[1]; channels = inputShape[2]
        outH = outputShape[0]; outW = outputShape[1]
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let input = inputs[0]
        Parallel.forEach(batch &* outH) { row in
            let n = row / outH, outY = row % outH
            self.poolRow(input: input + n &* inH &* inW &* channels,
                         output: output + (n &* outH &+ outY) &* outW &* channels, outY: outY)
        }
    }

    /// One output row. Channels in blocks of 8 (`SIMD8`) held in registers over the whole window, then
    /// one at a time: the same comparisons and the same additions in the same (y, x) order as one
    /// channel at a time, so the same floats (max keeps the earlier value unless the new one is `>=`
    /// it, as `Swift.max` does; average sums from 0 and scales once).
    private func poolRow(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, outY: Int) {
        let g = geometry
        let y0 = outY &* g.strideH &- g.padding.top
        let yStart = max(y0, 0), yEnd = min(y0 &+ g.kernelH, inH)
        let isMax = kind == .max
        let initial: Float = isMax ? -.infinity : 0
        for outX in 0..<outW {
            let x0 = outX &* g.strideW &- g.padding.left
            let xStart = max(x0, 0), xEnd = min(x0 &+ g.kernelW, inW)
            let out = output + outX &* channels
            let scale = 1 / Float(max((yEnd - yStart) * (xEnd - xStart), 1))
            var c = 0
            while c &+ 8 <= channels {
                var acc = SIMD8<Float>(repeating: initial)
                for y in yStart..<yEnd {
                    for x in xStart..<xEnd {
                        let v = load8(input + ((y &* inW &+ x) &* channels &+ c))
                        if isMax { acc.replace(with: v, where: v .>= acc) } else { acc += v }
                    }
                }
                store8(isMax ? acc : acc * scale, out + c)
                c &+= 8
            }
            while c < channels {
                var acc = initial
                for y in yStart..<yEnd {
                    for x in xStart..<xEnd {
                        let v = input[(y &* inW &+ x) &* channels &+ c]
                        if isMax { acc = max(acc, v) } else { acc += v }
                    }
                }
                out[c] = isMax ? acc : acc * scale
                c &+= 1
            }
        }
    }
}

/// Global average or max over the spatial axes: `[H, W, C] -> [C]`.
final class GlobalPool2DLayer: FloatLayer {
    let isMax: Bool
    let pixels: Int, channels: Int

    init(isMax: Bool, inputShape: [Int]) {
        self.isMax = isMax
        pixels = inputShape[0] * inputShape[1]
        channels = inputShape[2]
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let input = inputs[0]
        Parallel.forEach(batch) { n in
            let src = input + n &* self.pixels &* self.channels
            let out = output + n &* self.channels
            for c in 0..<self.channels { out[c] = self.isMax ? -.infinity : 0 }
            for p in 0..<self.pixels {
                let pixel = src + p &* self.channels
                if self.isMax {
                    for c in 0..<self.channels { out[c] = max(out[c], pixel[c]) }
                } else {
                    for c in 0..<self.channels { out[c] += pixel[c] }
                }
            }
            if !self.isMax {
                let scale = 1 / Float(self.pixels)
                for c in 0..<self.channels { out[c] *= scale }
            }
        }
    }
}
