import Calibration
import FixedPoint
import QBin
import QCore

/// Turns a canonical float graph (`GraphCanonicalizer`) and its activation statistics into a `QModel`.
///
/// One node becomes one integer op (docs/quantization.md): weights symmetric per output channel at the
/// layer's width, biases int32 at scale `s_x * s_w[c]` (bias-corrected by the calibration data's input
/// means), activations asymmetric unsigned with a clip range chosen per tensor, every rescale a
/// precomputed fixed-point multiplier and shift, ReLU / ReLU6 as clamps. Pass-through ops (pools,
/// reshapes, padding) keep their input's encoding, so their integer versions need no rescale.
public struct Quantizer {
    public let graph: Graph
    public let recipe: QuantizationRecipe
    /// Per canonical node; nil entries are allowed only for nodes covered by `rangeOverrides`.
    public let statistics: [TensorStatistics?]
    public var rangeOverrides: [Int: TensorRange] = [:]
    /// Input patch second moments of weighted nodes (by node), for GPTQ rounding (`recipe.gptqBelowBits`).
    public var inputCovariances: [Int: InputCovariance] = [:]
    /// Written first in the metadata (producer, source hash, ...); options and calibration methods follow.
    public var metadata: [QMetadataEntry] = []

    public init(graph: Graph, statistics: [TensorStatistics?], recipe: QuantizationRecipe) {
        self.graph = graph; self.statistics = statistics; self.recipe = recipe
    }

    /// Names of the weighted layers (conv, depthwise, transposed conv, dense), in order.
    public static func weightedLayers(of graph: Graph) -> [String] {
        graph.nodes.filter { isWeighted($0.op) }.map(\.name)
    }

    static func isWeighted(_ op: Op) -> Bool {
        switch op {
        case .conv2D, .depthwiseConv2D, .conv2DTranspose, .dense: return true
        default: return false
        }
    }

    public func quantize() throws(QuantizerError) -> QuantizationResult {
        try checkRecipe()
        var builder = ModelBuilder(quantizer: self)
        try builder.build()
        var model = builder.model
        model.metadata = metadata + recipe.metadataOptions.map { QMetadataEntry(QMetadataEntry.optionPrefix + $0.0, $0.1) }
        if builder.outputActivation == .softmax { model.metadata.append(QMetadataEntry("output.activation", "softmax")) }
        for (tensor, method) in builder.calibrationMethods {
            model.metadata.append(QMetadataEntry(QMetadataEntry.calibrationPrefix + tensor, method))
        }
        do { try model.validate() } catch { throw .format(error) }
        return QuantizationResult(model: model, layers: builder.layers, tensorForNode: builder.tensorOf,
                                  outputActivation: builder.outputActivation, warnings: builder.warnings,
                                  rewrites: builder.rewrites)
    }

    /// Bits within 2...8 and `--layer-bits` naming layers of the graph.
    public func checkRecipe() throws(QuantizerError) {
        for (context, bits) in [("--weight-bits", recipe.weightBits), ("--activation-bits", recipe.activationBits),
                                ("--first-last-bits", recipe.firstLastBits ?? 8)] where !(2...8).contains(bits) {
            throw .invalidBits(context: context, bits: bits)
        }
        let names = Set(graph.nodes.map(\.name))
        for (name, bits) in recipe.layerBits.sorted(by: { $0.key < $1.key }) {
            guard names.contains(name) else { throw .unknownLayer(name: name, available: Self.weightedLayers(of: graph)) }
            guard (2...8).contains(bits) else { throw .invalidBits(context: "--layer-bits \(name)", bits: bits) }
        }
    }

    // MARK: bits

    /// `(weight bits, activation bits)` of node `i`'s op. The first/last rule covers the first weighted
    /// layer (and the graph input feeding it), everything from the last weighted layer on, and the
    /// activations feeding the last weighted layer (through pools and reshapes, back to the op that
    /// computes them): an 8-bit layer reading 4-bit inputs would keep little of its precision.
    func bits(of i: Int) -> (weights: Int, activations: Int) { bitsAndReason(of: i).bits }

    /// Node `i`'s bits and, when they differ from `--weight-bits` / `--activation-bits`, the rule that set them.
    /// A value a registered op reads is kept at its `minimumInputBits` or more (TV smoothing: 8; it smooths
    /// in fixed point and requantizes to its own, narrower-range encoding, docs/tv-smoothing.md).
    func bitsAndReason(of i: Int) -> (bits: (weights: Int, activations: Int), reason: String?) {
        let base = edgeBitsAndReason(of: i)
        if let (bits, reader) = minimumReaderBits(i), base.bits.activations < bits {
            return ((base.bits.weights, bits), "read by \(reader)")
        }
        return base
    }

    /// The largest `minimumInputBits` among the registered ops reading node `i`, with that op's name.
    private func minimumReaderBits(_ i: Int) -> (Int, String)? {
        var best: (Int, String)?
        for node in graph.nodes where node.inputs.contains(i) {
            guard let op = node.op.registered as? any QuantizedFormOp, let bits = op.minimumInputBits else { continue }
            if bits > best?.0 ?? 0 { best = (bits, op.name) }
        }
        return best
    }

    /// `bitsAndReason` before the TV rule: `--layer-bits`, then the first/last rules.
    private func edgeBitsAndReason(of i: Int) -> (bits: (weights: Int, activations: Int), reason: String?) {
        let node = graph.nodes[i]
        if let b = recipe.layerBits[node.name] { return ((b, b), "--layer-bits") }
        if let edge = recipe.firstLastBits {
            let weighted = graph.nodes.indices.filter { Self.isWeighted(graph.nodes[$0].op) }
            if let first = weighted.first, let last = weighted.last {
                if i == first { return ((edge, edge), "first weighted layer (--first-last-bits)") }
                if i == last { return ((edge, edge), "last weighted layer (--first-last-bits)") }
                if i > last { return ((edge, edge), "after the last weighted layer (--first-last-bits)") }
                if graph.inputs.contains(i) { return ((edge, edge), "model input (--first-last-bits)") }
                if feedsLastLayer(i, last: last) { return ((recipe.weightBits, edge), "input of the last weighted layer (--first-last-bits)") }
                if let lut = recipe.lookupTableInputBits, feedsLookupTable(i), lut > recipe.activationBits {
                    return ((recipe.weightBits, lut), "read by a lookup-table activation")
                }
                if let lut = recipe.lookupTableOutputBits, isLookupTable(i), lut > recipe.activationBits {
                    return ((recipe.weightBits, lut), Self.lookupTableOutputReason)
                }
            }
        }
        return ((recipe.weightBits, recipe.activationBits), nil)
    }

    static let lookupTableOutputReason = "lookup-table activation output"

    /// Names of the lookup-table activations whose outputs `recipe.lookupTableOutputBits` widens.
    public func widenedLookupTableOutputs() -> [String] {
        graph.nodes.indices.filter { bitsAndReason(of: $0).reason == Self.lookupTableOutputReason }.map { graph.nodes[$0].name }
    }

    /// True when a lookup-table activation (sigmoid, tanh, swish, leaky / thresholded ReLU, ...) reads node `i`.
    private func feedsLookupTable(_ i: Int) -> Bool {
        graph.nodes.indices.contains { graph.nodes[$0].inputs.contains(i) && isLookupTable($0) }
    }

    /// True when node `i` is an activation lowered to a lookup table (`ModelBuilder.lowerActivation`):
    /// any function but ReLU, ReLU6, linear (clamped requantizes) and softmax (left to the edge).
    private func isLookupTable(_ i: Int) -> Bool {
        guard case .activation(let a) = graph.nodes[i].op else { return false }
        return a != .relu && a != .relu6 && a != .linear && a != .softmax
    }

    /// True when node `i`'s value reaches the weighted node `last` through pass-through ops only
    /// (pools, global pools, flatten, reshape, zero padding, fused ReLUs, registered ops that copy their
    /// input's encoding), or is `last`'s direct input.
    private func feedsLastLayer(_ i: Int, last: Int) -> Bool {
        var frontier = graph.nodes[last].inputs
        var seen = Set<Int>()
        while let n = frontier.popLast() {
            if n == i { return true }
            guard seen.insert(n).inserted else { continue }
            switch graph.nodes[n].op {
            case .maxPool2D, .averagePool2D, .globalAveragePool2D, .globalMaxPool2D, .flatten, .reshape, .zeroPadding2D, .identity,
                 .activation(.relu), .activation(.relu6):
                // A standalone ReLU is fused into its producer's clamp: the producer's output is this value.
                frontier.append(contentsOf: graph.nodes[n].inputs)
            case .registered(let r) where r.op.copiesInputEncoding:
                frontier.append(contentsOf: graph.nodes[n].inputs)
            default:
                break
            }
        }
        return false
    }

    /// The clip range of node `i`'s output at `bits`.
    func range(of i: Int, bits: Int) throws(QuantizerError) -> TensorRange {
        if let fixed = rangeOverrides[i] { return fixed }
        guard let stats = statistics.indices.contains(i) ? statistics[i] : nil else {
            throw .missingStatistics(layer: graph.nodes[i].name)
        }
        // The graph input is data, not an activation to clip: its full range.
        let method: ClipMethod = graph.inputs.contains(i) ? .minmax : recipe.calibrationMethod
        let r = stats.clipRange(method: method, bits: bits)
        return TensorRange(low: r.low, high: r.high, method: r.method)
    }

    func multiplier(_ real: Double, layer: String) throws(QuantizerError) -> QuantizedMultiplier {
        do { return try QuantizedMultiplier.make(real, for: .gemmlowp) } catch {
            throw .multiplierOutOfRange(layer: layer, value: real)
        }
    }
}
