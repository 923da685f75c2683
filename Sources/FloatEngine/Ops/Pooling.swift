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

    private func poolRow(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, outY: Int) {
        let g = geometry
        let y0 = outY &* g.strideH &- g.padding.top
        let yStart = max(y0, 0), yEnd = min(y0 &+ g.kernelH, inH)
        for outX in 0..<outW {
            let x0 = outX &* g.strideW &- g.padding.left
            let xStart = max(x0, 0), xEnd = min(x0 &+ g.kernelW, inW)
            let out = output + outX &* channels
            let initial: Float = kind == .max ? -.infinity : 0
            for c in 0..<channels { out[c] = initial }
            for y in yStart..<yEnd {
                for x in xStart..<xEnd {
                    let pixel = input + (y &* inW &+ x) &* channels
                    if kind == .max {
                        for c in 0..<channels { out[c] = max(out[c], pixel[c]) }
                    } else {
                        for c in 0..<channels { out[c] += pixel[c] }
                    }
                }
            }
            if kind == .average {
                let scale = 1 / Float(max((yEnd - yStart) * (xEnd - xStart), 1))
                for c in 0..<channels { out[c] *= scale }
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
