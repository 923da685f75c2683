import QCore

/// A graph rewrite the quantizer considered, for the report: where, whether it was kept, and why
/// (with the numbers that decided it).
public struct RewriteRecord: Sendable, Equatable {
    /// The rewrite's name, e.g. `"constant-input-channels"`, `"batchnorm-forward-fold"`.
    public var rewrite: String
    /// The layer it touched (the layer whose weights changed, or the BatchNorm that was folded).
    public var layer: String
    public var applied: Bool
    public var reason: String

    public init(rewrite: String, layer: String, applied: Bool, reason: String) {
        self.rewrite = rewrite; self.layer = layer; self.applied = applied; self.reason = reason
    }
}

extension ModelBuilder {
    /// Input channels that calibration saw constant (a ReLU channel that never fired, a zero-variance
    /// channel) leave the weighted layer's weights and enter its bias: for a weight `w` reading a
    /// channel of constant value `v`, `bias[c] += w * v` and `w = 0`.
    ///
    /// Why: a folded BatchNorm multiplies the weights that read a dead channel by `gamma / sqrt(var +
    /// eps)`, ~30 when the variance is ~0, against ~0.04 on live channels; per output channel the
    /// weight scale is set by its largest weight, so those dead-channel rows (which multiply nothing
    /// but a constant) would round every live weight to 0. Exact in float when `v == 0` or the layer
    /// has no zero padding (padded taps read 0, not `v`); declined otherwise. Kept only where it shrinks
    /// some output channel's weight range at least `leastRangeGain` times: a channel that was constant
    /// on the calibration samples may still fire, rarely, on others (ops_zoo's grouped_conv: a 1.1x
    /// gain cost 2 of 300 held-out images), so it is moved only where it sets the range.
    mutating func moveConstantInputsToBias(_ i: Int, _ layout: inout WeightLayout) {
        guard quantizer.recipe.constantChannelsToBias, let map = layout.inputChannel else { return }
        let inputNode = graph.nodes[i].inputs[0]
        guard quantizer.statistics.indices.contains(inputNode), let stats = quantizer.statistics[inputNode] else { return }
        let constant = stats.constantChannels
        guard !constant.isEmpty else { return }
        var value = [Float?](repeating: nil, count: stats.channels)
        for (k, v) in constant { value[k] = v }
        let padded = Self.hasZeroPadding(graph.nodes[i].op)
        let original = layout
        let rowLength = layout.rows.count / Swift.max(layout.channels, 1)
        let before = Self.largestRowMagnitudes(layout)
        var moved = Set<Int>(), declined = Set<Int>()
        for c in 0..<layout.channels {
            for j in 0..<rowLength {
                let k = map(c, j)
                guard k < value.count, let v = value[k] else { continue }
                let index = c * rowLength + j
                if v != 0 && padded { declined.insert(k); continue }
                layout.bias[c] += layout.rows[index] * v
                layout.rows[index] = 0
                moved.insert(k)
            }
        }
        let name = graph.nodes[i].name
        let list = { (s: Set<Int>) -> String in
            let shown = s.sorted().prefix(8).map { k in "\(k) (= \(value[k]!))" }.joined(separator: ", ")
            return s.count > 8 ? "\(s.count) channels (\(shown), ...)" : shown
        }
        if !moved.isEmpty {
            let after = Self.largestRowMagnitudes(layout)
            // The measured effect: how much finer the weight grid of the rows these channels dominated gets.
            let gains = zip(before, after).map { $1 > 0 ? Double($0 / $1) : 1 }
            let widest = gains.max() ?? 1
            let changed = gains.filter { $0 > 1 }.count
            let applied = widest >= Self.leastRangeGain
            if !applied { layout = original }
            addRewrite(RewriteRecord(
                rewrite: "constant-input-channels", layer: name, applied: applied,
                reason: "input channels \(list(moved)) were constant on every calibration sample"
                    + (applied ? ": moved into the bias; " : ": kept (they set no weight range); ")
                    + "\(changed) of \(layout.channels) output channels' weight ranges would shrink, the most by \(Self.format(widest))x"))
        }
        if !declined.isEmpty {
            addRewrite(RewriteRecord(
                rewrite: "constant-input-channels", layer: name, applied: false,
                reason: "input channels \(list(declined)) were constant but nonzero and the layer pads with zeros: not exact, kept"))
        }
    }

    /// Least range shrink (largest over all output channels) that moves constant channels (see above).
    static let leastRangeGain = 2.0

    /// Largest |weight| of each row (output channel).
    static func largestRowMagnitudes(_ layout: WeightLayout) -> [Float] {
        let rowLength = layout.rows.count / Swift.max(layout.channels, 1)
        return (0..<layout.channels).map { c in
            layout.rows[(c * rowLength)..<((c + 1) * rowLength)].reduce(0) { Swift.max($0, abs($1)) }
        }
    }

    static func hasZeroPadding(_ op: Op) -> Bool {
        let p: Padding2D
        switch op {
        case .conv2D(let c): p = c.geometry.padding
        case .depthwiseConv2D(let c): p = c.geometry.padding
        case .conv2DTranspose: return true
        default: return false
        }
        return p.top != 0 || p.bottom != 0 || p.left != 0 || p.right != 0
    }

    static func format(_ x: Double) -> String {
        x >= 100 ? String(Int(x.rounded())) : String(Double(Int(x * 10)) / 10)
    }
}
