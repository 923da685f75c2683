/// Parameter and multiply-accumulate counts, per node and in total, for `inspect` and reports.
public enum GraphStatistics {
    /// Values a node stores in the model file (weights, biases, normalization parameters), as Keras counts them.
    public static func parameterCount(_ node: Node) -> Int {
        switch node.op {
        case .conv2D(let c): return c.weights.count + (c.hasBias ? c.bias.count : 0)
        case .depthwiseConv2D(let c): return c.weights.count + (c.hasBias ? c.bias.count : 0)
        case .conv2DTranspose(let c): return c.weights.count + (c.hasBias ? c.bias.count : 0)
        case .dense(let d): return d.weights.count + (d.hasBias ? d.bias.count : 0)
        case .batchNorm(let b): return 4 * b.channels
        case .layerNorm(let l): return 2 * l.channels
        // Rescaling constants are configuration, not weights (Keras does not count them either).
        default: return 0
        }
    }

    /// Multiply-accumulates for one sample.
    public static func macs(_ node: Node, inputShapes: [[Int]]) -> Int {
        let outCount = node.shape.reduce(1, *)
        switch node.op {
        case .conv2D(let c):
            return outCount * c.geometry.kernelH * c.geometry.kernelW * (c.inChannels / c.groups)
        case .depthwiseConv2D(let c):
            return outCount * c.geometry.kernelH * c.geometry.kernelW
        case .conv2DTranspose(let c):
            let inCount = inputShapes.first?.reduce(1, *) ?? 0
            return inCount * c.geometry.kernelH * c.geometry.kernelW * c.outChannels
        case .dense(let d):
            return outCount / max(d.outFeatures, 1) * d.inFeatures * d.outFeatures
        default:
            return 0
        }
    }
}
