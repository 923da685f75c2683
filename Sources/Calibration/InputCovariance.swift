import FloatEngine
import QCore

/// Second moments `H = Σ x xᵀ` of the input patches a weighted op's rows see, accumulated over
/// calibration samples: the Hessian of the layer's squared output error with respect to its weights,
/// which GPTQ rounding (`Quantizer`) needs.
///
/// Patches are laid out like the `.qbin` weight rows (docs/qbin-format.md): a conv row reads
/// `[kernelH, kernelW, inChannels / groups]` with one matrix per group, a depthwise row reads
/// `[kernelH, kernelW]` of one input channel with one matrix per input channel, a dense row reads the
/// last axis with one matrix. Padding taps are zeros. Each sample contributes at most
/// `positionsPerSample` output positions, spread over the image and shifted from sample to sample.
public final class InputCovariance {
    public enum Layout: Sendable {
        case conv(ConvGeometry, groups: Int)
        case depthwise(ConvGeometry)
        case dense
    }

    public let layout: Layout
    /// Input `[H, W, C]` (dense: any shape, last axis = features).
    public let inputShape: [Int]
    /// Length of one patch (= one weight row).
    public let size: Int
    /// Row-major `size x size` matrices, upper triangle until `matrix(_:)` mirrors it.
    private var sums: [[Double]]
    /// Patches accumulated per matrix.
    public private(set) var patches = 0
    public let positionsPerSample: Int
    private var samplesSeen = 0

    /// Longest patch kept: the matrices take `size²` doubles and GPTQ's factorisations `size³` steps.
    public static let maxSize = 640

    public init?(op: Op, inputShape: [Int], positionsPerSample: Int = 64) {
        let channels = inputShape.last ?? 1
        switch op {
        case .conv2D(let c) where inputShape.count == 3:
            layout = .conv(c.geometry, groups: c.groups)
            size = c.geometry.kernelH * c.geometry.kernelW * (channels / c.groups)
            sums = [[Double]](repeating: [Double](repeating: 0, count: size * size), count: c.groups)
        case .depthwiseConv2D(let c) where inputShape.count == 3:
            layout = .depthwise(c.geometry)
            size = c.geometry.kernelH * c.geometry.kernelW
            sums = [[Double]](repeating: [Double](repeating: 0, count: size * size), count: channels)
        case .dense:
            layout = .dense
            size = channels
            sums = [[Double](repeating: 0, count: size * size)]
        default:
            return nil
        }
        guard size <= Self.maxSize else { return nil }
        self.inputShape = inputShape
        self.positionsPerSample = Swift.max(1, positionsPerSample)
    }

    /// Matrices: one per group (conv), per input channel (depthwise), or one (dense).
    public var count: Int { sums.count }

    /// The symmetric matrix `k` (`size x size`, row-major), averaged over the patches seen.
    public func matrix(_ k: Int) -> [Double] {
        var h = sums[k]
        let n = Double(Swift.max(patches, 1))
        for i in 0..<size {
            for j in i..<size {
                let v = h[i * size + j] / n
                h[i * size + j] = v
                h[j * size + i] = v
            }
        }
        return h
    }

    /// Adds `batch` samples of the op's input (`batch x inputShape` floats).
    public func add(_ values: UnsafeBufferPointer<Float>, batch: Int) {
        let perSample = inputShape.reduce(1, *)
        var patch = [Float](repeating: 0, count: size)
        for b in 0..<batch {
            let sample = UnsafeBufferPointer(rebasing: values[(b * perSample)..<((b + 1) * perSample)])
            switch layout {
            case .dense:
                let rows = perSample / size
                for p in positions(rows) {
                    for i in 0..<size { patch[i] = sample[p * size + i] }
                    accumulate(patch, into: 0)
                }
            case .conv(let g, let groups):
                let cinG = inputShape[2] / groups
                let out = g.outputSize(inH: inputShape[0], inW: inputShape[1])
                for p in positions(out.h * out.w) {
                    for group in 0..<groups {
                        gather(sample, g, y: p / out.w, x: p % out.w, channel: group * cinG, width: cinG, into: &patch)
                        accumulate(patch, into: group)
                    }
                }
            case .depthwise(let g):
                let out = g.outputSize(inH: inputShape[0], inW: inputShape[1])
                for p in positions(out.h * out.w) {
                    for c in 0..<inputShape[2] {
                        gather(sample, g, y: p / out.w, x: p % out.w, channel: c, width: 1, into: &patch)
                        accumulate(patch, into: c)
                    }
                }
            }
            patches += Swift.min(positionsPerSample, rowCount)
            samplesSeen += 1
        }
    }

    /// Output positions (dense: rows) per sample.
    private var rowCount: Int {
        switch layout {
        case .dense: return inputShape.reduce(1, *) / size
        case .conv(let g, _), .depthwise(let g):
            let out = g.outputSize(inH: inputShape[0], inW: inputShape[1])
            return out.h * out.w
        }
    }

    /// At most `positionsPerSample` of `total` positions, evenly spaced, offset by the sample count.
    private func positions(_ total: Int) -> [Int] {
        guard total > positionsPerSample else { return Array(0..<total) }
        let offset = samplesSeen % (total / positionsPerSample)
        return (0..<positionsPerSample).map { ($0 * total) / positionsPerSample + offset }
    }

    /// The `[kernelH, kernelW, width]` window of output position `(y, x)`, channels `channel ..< channel + width`.
    private func gather(_ sample: UnsafeBufferPointer<Float>, _ g: ConvGeometry, y: Int, x: Int, channel: Int, width: Int,
                        into patch: inout [Float]) {
        let (h, w, c) = (inputShape[0], inputShape[1], inputShape[2])
        var k = 0
        for ky in 0..<g.kernelH {
            let iy = y * g.strideH + ky * g.dilationH - g.padding.top
            for kx in 0..<g.kernelW {
                let ix = x * g.strideW + kx * g.dilationW - g.padding.left
                let inside = iy >= 0 && iy < h && ix >= 0 && ix < w
                let base = (iy * w + ix) * c + channel
                for i in 0..<width { patch[k + i] = inside ? sample[base + i] : 0 }
                k += width
            }
        }
    }

    /// Upper triangle of `patch patchᵀ` into matrix `k`, skipping zero entries (post-ReLU inputs are sparse).
    private func accumulate(_ patch: [Float], into k: Int) {
        let n = size
        patch.withUnsafeBufferPointer { x in
            sums[k].withUnsafeMutableBufferPointer { h in
                for i in 0..<n {
                    let xi = Double(x[i])
                    if xi == 0 { continue }
                    let row = i * n
                    for j in i..<n { h[row + j] += xi * Double(x[j]) }
                }
            }
        }
    }
}

extension InputCovariance {
    /// One covariance per weighted node (conv, depthwise, dense) of `executor`'s graph, from the first
    /// `sampleCount` samples (`read(start, count, buffer)` as in `Calibrator.collect`).
    public static func collect(executor: FloatExecutor, sampleCount: Int, batchSize: Int, positionsPerSample: Int = 64,
                               read: (Int, Int, UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> [Int: InputCovariance] {
        let graph = executor.graph
        var byInput: [Int: [(Int, InputCovariance)]] = [:]
        var result: [Int: InputCovariance] = [:]
        for (i, node) in graph.nodes.enumerated() {
            guard let source = node.inputs.first,
                  let cov = InputCovariance(op: node.op, inputShape: graph.nodes[source].shape, positionsPerSample: positionsPerSample)
            else { continue }
            byInput[source, default: []].append((i, cov))
            result[i] = cov
        }
        guard !result.isEmpty, sampleCount > 0 else { return result }
        try Calibrator.stream(executor: executor, sampleCount: sampleCount, batchSize: batchSize, read: read,
                              observe: { node, values, n in for (_, cov) in byInput[node] ?? [] { cov.add(values, batch: n) } })
        return result
    }
}
