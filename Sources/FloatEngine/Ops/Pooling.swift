import CKernels
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

    /// One output row per call of the per-level C kernel `qc_pool_row_f32` (16 channels per ZMM at
    /// avx512: the Swift `SIMD8` loop it replaced ran at SSE2 width, a compare and three logic ops per
    /// 4 lanes and window pixel, 10-15 % of relu_logits_k2 and concat_pool_leaky). The same comparisons
    /// and additions in the same (y, x) order as one channel at a time, so the same floats (max keeps
    /// the earlier value unless the new one is `>=` it, as `Swift.max` does; average sums from 0 and
    /// scales once).
    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let input = inputs[0], g = geometry, average: Int32 = kind == .average ? 1 : 0
        Parallel.forEach(batch &* outH) { row in
            let n = row / self.outH, outY = row % self.outH
            qc_pool_row_f32(input + n &* self.inH &* self.inW &* self.channels, self.inH, self.inW, self.channels,
                            g.kernelH, g.kernelW, g.strideH, g.strideW, g.padding.top, g.padding.left, outY,
                            self.outW, average, output + (n &* self.outH &+ outY) &* self.outW &* self.channels)
        }
    }
}

/// Global average or max over the spatial axes: `[H, W, C] -> [C]`.
final class GlobalPool2DLayer: FloatLayer {
    let isMax: Bool
    let height: Int, width: Int, channels: Int

    init(isMax: Bool, inputShape: [Int]) {
        self.isMax = isMax
        height = inputShape[0]; width = inputShape[1]; channels = inputShape[2]
    }

    /// A pool whose one window is the whole image, through `qc_pool_row_f32` (a scalar Swift loop
    /// before): max from -inf keeping the earlier value unless the new one is `>=` it, average summed
    /// in pixel order from 0 then times `1 / pixels`, as that loop did, so the same floats.
    func run(inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>, batch: Int,
             workspace: UnsafeMutablePointer<Float>) {
        let input = inputs[0], average: Int32 = isMax ? 0 : 1
        let sampleCount = height &* width &* channels
        Parallel.forEach(batch) { n in
            qc_pool_row_f32(input + n &* sampleCount, self.height, self.width, self.channels, self.height, self.width,
                            1, 1, 0, 0, 0, 1, average, output + n &* self.channels)
        }
    }
}
