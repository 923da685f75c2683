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
            for y in 0..<self.inH {
                let to = dst + ((y &+ self.padding.top) &* self.outW &+ self.padding.left) &* self.channels
                to.update(from: src + y &* self.inW &* self.channels, count: self.inW &* self.channels)
            }
        }
    }
}
