import QCore
import Quantizer

/// Ranges for a conversion without calibration data.
///
/// Where a tensor is the output of a BatchNorm (folded or not), its per-channel distribution is
/// `N(beta, gamma^2)` by construction of BN, so its range is `beta_c ± 4 |gamma_c|` over the channels
/// (cut at zero / six by a fused ReLU / ReLU6). Everything else comes from synthetic inputs run through
/// the float graph (`syntheticInputRange`).
enum DataFree {
    static let sigmas: Float = 4

    /// Range overrides per canonical node, from the BatchNorm layers of the original graph.
    static func batchNormRanges(original: Graph, canonical: Graph, nodeMap: [Int]) -> [Int: TensorRange] {
        var ranges: [Int: TensorRange] = [:]
        for (i, node) in original.nodes.enumerated() {
            guard case .batchNorm(let bn) = node.op else { continue }
            // Only BatchNorms folded backward into a weighted op describe that op's output; one folded
            // forward (after an activation) vanished into the next layer's weights.
            switch original.nodes[node.inputs[0]].op {
            case .conv2D, .depthwiseConv2D, .conv2DTranspose, .dense: break
            default: continue
            }
            let target = nodeMap[i]
            var low = Float.infinity, high = -Float.infinity
            for c in 0..<bn.channels {
                low = min(low, bn.beta[c] - sigmas * abs(bn.gamma[c]))
                high = max(high, bn.beta[c] + sigmas * abs(bn.gamma[c]))
            }
            var activation: Activation = .linear
            switch canonical.nodes[target].op {
            case .conv2D(let c): activation = c.activation
            case .depthwiseConv2D(let c): activation = c.activation
            case .conv2DTranspose(let c): activation = c.activation
            case .dense(let d): activation = d.activation
            default: break
            }
            if activation == .relu || activation == .relu6 { low = 0; high = max(high, 0) }
            if activation == .relu6 { high = min(high, 6) }
            ranges[target] = TensorRange(low: low, high: high, method: "batchnorm")
        }
        return ranges
    }

    /// The input range synthetic samples are drawn from: `0 ... 255` when the model rescales its input
    /// by a small factor first (raw pixels), else `0 ... 1`.
    static func syntheticInputRange(_ graph: Graph) -> (low: Float, high: Float) {
        for node in graph.nodes where node.inputs.contains(where: { graph.inputs.contains($0) }) {
            if case .rescaling(let scale, _) = node.op, let s = scale.first, abs(s) < 0.1 { return (0, 255) }
        }
        return (0, 1)
    }
}
