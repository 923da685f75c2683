import FloatEngine
import QCore

extension TVSmoothing: FloatOp {
    public func makeFloatLayer(inputShapes: [[Int]], outputShape: [Int]) -> any FloatLayer {
        TVSmoothingLayer(self, inputShape: inputShapes[0])
    }
}

/// The float kernel of `TVSmoothing` (formula in its doc comment, docs/tv-smoothing.md): `steps`
/// explicit TV-flow steps per sample, all channels of a pixel side by side (NHWC). Float arithmetic,
/// the normalised gradient from `1 / sqrt`; tested against `TVSmoothing.reference` (Double).
final class TVSmoothingLayer: FloatLayer {
    let tv: TVSmoothing
    let height: Int, width: Int, channels: Int

    init(_ tv: TVSmoothing, inputShape: [Int]) {
        self.tv = tv
        height = inputShape[0]; width = inputShape[1]; channels = inputShape[2]
    }

    var sampleCount: Int { height &* width &* channels }

    /// The normalised gradients `px`, `py` of one sample.
    func workspaceCount(batch: Int) -> Int { 2 &* batch &* sampleCount }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let count = sampleCount
        let input = inputs[0]
        Parallel.forEach(batch) { n in
            let map = output + n &* count
            map.update(from: input + n &* count, count: count)
            self.smooth(map, px: workspace + 2 &* n &* count, py: workspace + (2 &* n &+ 1) &* count)
        }
    }

    /// `steps` steps on one `[H, W, C]` map in place.
    func smooth(_ map: UnsafeMutablePointer<Float>, px: UnsafeMutablePointer<Float>, py: UnsafeMutablePointer<Float>) {
        let gamma = tv.gamma, eps = tv.epsilon
        let c = channels, row = width &* channels
        for _ in 0..<tv.steps {
            for y in 0..<height {
                for x in 0..<width {
                    let base = y &* row &+ x &* c
                    for k in 0..<c {
                        let i = base &+ k
                        let v = map[i]
                        let dx: Float = x &+ 1 < width ? map[i &+ c] - v : 0
                        let dy: Float = y &+ 1 < height ? map[i &+ row] - v : 0
                        let inverse = 1 / (dx * dx + dy * dy + eps).squareRoot()
                        px[i] = dx * inverse
                        py[i] = dy * inverse
                    }
                }
            }
            for y in 0..<height {
                for x in 0..<width {
                    let base = y &* row &+ x &* c
                    for k in 0..<c {
                        let i = base &+ k
                        var div = px[i] + py[i]
                        if x > 0 { div -= px[i &- c] }
                        if y > 0 { div -= py[i &- row] }
                        map[i] += gamma * div
                    }
                }
            }
        }
    }
}
