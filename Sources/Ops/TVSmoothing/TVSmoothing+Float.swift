import FloatEngine
import QCore

extension TVSmoothing: FloatOp {
    public func makeFloatLayer(inputShapes: [[Int]], outputShape: [Int]) -> any FloatLayer {
        TVSmoothingLayer(self, inputShape: inputShapes[0])
    }
}

/// The float kernel of `TVSmoothing` (formula in its doc comment, docs/tv-smoothing.md): `steps`
/// explicit TV-flow steps per sample, all channels of a pixel side by side (NHWC). Float arithmetic,
/// the normalised gradient from `1 / sqrt`; tested against `TVSmoothing.reference` (Double), and bit
/// for bit against the per-element loop (TVSmoothingKernelTests).
final class TVSmoothingLayer: FloatLayer {
    let tv: TVSmoothing
    let height: Int, width: Int, channels: Int
    /// Samples in flight per call, each with its own `px`, `py` in the workspace: the executor zeroes
    /// the workspace once per call, and two maps per sample of a 32-sample batch (3.2 MB for tv_cnn's
    /// 28x28x16) made that memset 11 % of tv_cnn.
    static let slots = 8

    init(_ tv: TVSmoothing, inputShape: [Int]) {
        self.tv = tv
        height = inputShape[0]; width = inputShape[1]; channels = inputShape[2]
    }

    var sampleCount: Int { height &* width &* channels }

    /// The normalised gradients `px`, `py` of each sample in flight.
    func workspaceCount(batch: Int) -> Int { 2 &* min(batch, Self.slots) &* sampleCount }

    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let count = sampleCount
        let input = inputs[0]
        let slots = min(batch, Self.slots)
        Parallel.forEach(slots) { slot in
            for n in stride(from: slot, to: batch, by: slots) {
                let map = output + n &* count
                map.update(from: input + n &* count, count: count)
                self.smooth(map, px: workspace + 2 &* slot &* count, py: workspace + (2 &* slot &+ 1) &* count)
            }
        }
    }

    /// `steps` steps on one `[H, W, C]` map in place. Each image row runs as contiguous loops over its
    /// `W * C` values (the last column, with no right neighbour, and for pass two the first column, with
    /// no left one, apart), which the compiler vectorises; per value the same expressions in the same
    /// order as one value at a time (a missing neighbour's difference is 0 there as here), so the same
    /// floats. Per element: `px, py = (dx, dy) / sqrt(dx^2 + dy^2 + eps)`, then
    /// `map += gamma * (px + py - px[left] - py[up])`.
    func smooth(_ map: UnsafeMutablePointer<Float>, px: UnsafeMutablePointer<Float>, py: UnsafeMutablePointer<Float>) {
        let gamma = tv.gamma, eps = tv.epsilon
        let c = channels, row = width &* channels, inner = (width &- 1) &* channels
        for _ in 0..<tv.steps {
            for y in 0..<height {
                let start = y &* row
                let m = UnsafePointer(map + start), gx = px + start, gy = py + start
                if y &+ 1 < height {
                    Self.gradients(m, gx, gy, 0..<inner, right: c, down: row, hasRight: true, hasDown: true, eps: eps)
                    Self.gradients(m, gx, gy, inner..<row, right: c, down: row, hasRight: false, hasDown: true, eps: eps)
                } else {
                    Self.gradients(m, gx, gy, 0..<inner, right: c, down: row, hasRight: true, hasDown: false, eps: eps)
                    Self.gradients(m, gx, gy, inner..<row, right: c, down: row, hasRight: false, hasDown: false, eps: eps)
                }
            }
            for y in 0..<height {
                let start = y &* row
                let m = map + start, gx = px + start, gy = py + start
                let first = min(c, row)
                if y > 0 {
                    let up = gy - row
                    for i in 0..<first { m[i] += gamma * ((gx[i] + gy[i]) - up[i]) }
                    for i in first..<row { m[i] += gamma * (((gx[i] + gy[i]) - gx[i &- c]) - up[i]) }
                } else {
                    for i in 0..<first { m[i] += gamma * (gx[i] + gy[i]) }
                    for i in first..<row { m[i] += gamma * ((gx[i] + gy[i]) - gx[i &- c]) }
                }
            }
        }
    }

    /// Pass one over values `range` of an image row: `(dx, dy) / sqrt(dx^2 + dy^2 + eps)` with `dx` the
    /// difference to the value `right` floats on (0 without `hasRight`) and `dy` to the one `down` floats
    /// on. Eight lanes at a time (`SIMD8`: `sqrtps` and `divps` round as `sqrtss` and `divss` do, so the
    /// same floats as the scalar remainder); the scalar form did not vectorise (`squareRoot` kept a
    /// branch for negative inputs).
    @inline(__always)
    private static func gradients(_ m: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>,
                                  _ gy: UnsafeMutablePointer<Float>, _ range: Range<Int>, right: Int, down: Int,
                                  hasRight: Bool, hasDown: Bool, eps: Float) {
        var i = range.lowerBound
        let e = SIMD8<Float>(repeating: eps), one = SIMD8<Float>(repeating: 1)
        while i &+ 8 <= range.upperBound {
            let v = load8(m + i)
            let dx = hasRight ? load8(m + (i &+ right)) - v : SIMD8<Float>()
            let dy = hasDown ? load8(m + (i &+ down)) - v : SIMD8<Float>()
            let inverse = one / (dx * dx + dy * dy + e).squareRoot()
            store8(dx * inverse, gx + i)
            store8(dy * inverse, gy + i)
            i &+= 8
        }
        while i < range.upperBound {
            let v = m[i]
            let dx: Float = hasRight ? m[i &+ right] - v : 0
            let dy: Float = hasDown ? m[i &+ down] - v : 0
            let inverse = 1 / (dx * dx + dy * dy + eps).squareRoot()
            gx[i] = dx * inverse
            gy[i] = dy * inverse
            i &+= 1
        }
    }

    @inline(__always) private static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) private static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}
