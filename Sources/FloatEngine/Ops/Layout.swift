import QCore

/// Concatenation along one axis of the per-sample shape.
final class ConcatenateLayer: FloatLayer {
    /// Values per "outer" step for each input (the product of the dims from `axis` on).
    let innerCounts: [Int]
    let outerCount: Int

    init(axis: Int, inputShapes: [[Int]]) {
        outerCount = inputShapes[0][..<axis].reduce(1, *)
        innerCounts = inputShapes.map { $0[axis...].reduce(1, *) }
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let total = innerCounts.reduce(0, +)
        let rows = batch &* outerCount
        Parallel.forEach(Parallel.chunkCount(rows)) { chunk in
            for row in Parallel.chunkRange(chunk, of: rows) {
                var dst = output + row &* total
                for (k, inner) in self.innerCounts.enumerated() {
                    dst.update(from: inputs[k] + row &* inner, count: inner)
                    dst += inner
                }
            }
        }
    }
}

/// Zero padding of the spatial axes.
final class ZeroPadding2DLayer: FloatLayer {
    let padding: Padding2D
    let inH: Int, inW: Int, channels: Int, outH: Int, outW: Int

    init(padding: Padding2D, inputShape: [Int]) {
        self.padding = padding
        inH = inputShape[0]; inW = inputShape[1]; channels = inputShape[2]
        outH = inH + padding.top + padding.bottom
        outW = inW + padding.left + padding.right
    }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let input = inputs[0]
        Parallel.forEach(batch) { n in
            let dst = output + n &* self.outH &* self.outW &* self.channels
            dst.update(repeating: 0, count: self.outH &* self.outW &* self.channels)
            let src = input + n &* self.inH &* self.inW &* self.channels
            // Negative padding crops (Cropping2D): copy only the input rows / columns inside the output.
            let firstX = max(0, -self.padding.left), lastX = min(self.inW, self.outW - self.padding.left)
            let firstY = max(0, -self.padding.top), lastY = min(self.inH, self.outH - self.padding.top)
            guard firstX < lastX, firstY < lastY else { return }
            for y in firstY..<lastY {
                let to = dst + ((y &+ self.padding.top) &* self.outW &+ firstX &+ self.padding.left) &* self.channels
                to.update(from: src + (y &* self.inW &+ firstX) &* self.channels, count: (lastX &- firstX) &* self.channels)
            }
        }
    }
}
