import Calibration
import Foundation
import Emulation
import FixedPoint
import FloatEngine
import QCore
import Quantizer
import Simulator

/// Decides each forward BatchNorm fold (`GraphCanonicalizer.foldForward`) by measurement: the fold
/// is exact in float, but it multiplies the next layer's weights per input channel by
/// `gamma / sqrt(var + eps)`, which can set that layer's weight ranges from a few channels (dead or
/// tiny-variance ones) and cost far more than the `channelAffine` it saves. A fold is kept only where
/// the quantized model's output error on calibration samples does not get worse.
///
/// One calibration pass serves every choice: the graph with no forward folds computes every tensor
/// of any folded variant (a folded graph only lacks the BatchNorm outputs), so statistics carry over
/// by node name.
enum FoldSearch {
    /// Calibration samples the choice is measured on (the first ones): enough to rank two variants
    /// whose output errors differ by the ~2x a bad fold costs, cheap next to calibration.
    static let sampleCount = 64
    /// A rewrite that departs from the default must lower the probe's error by at least this share:
    /// on 64 samples smaller differences are noise (resnet_bn's equalization measured 3.5 % lower on the
    /// probe and flipped one more of 300 held-out images).
    static let margin = 0.9

    struct Decision {
        var canonical: (graph: Graph, nodeMap: [Int])
        var statistics: [TensorStatistics]
        var records: [RewriteRecord]
    }

    /// Starts from every candidate folded and declines each, in graph order, whose decline lowers the
    /// error (greedy: `candidates.count + 1` quantizations, each run through the integer simulator).
    static func decide(original: Graph, unfolded: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics],
                       candidates: [String], probe: RewriteProbe) throws(QConvertError) -> Decision {
        var byName: [String: Int] = [:]
        for (k, node) in unfolded.graph.nodes.enumerated() { byName[node.name] = k }

        func variant(_ folded: Set<String>) throws(QConvertError) -> (canonical: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics]) {
            let canonical: (graph: Graph, nodeMap: [Int])
            do { canonical = try GraphCanonicalizer.canonicalize(original, forwardFold: { folded.contains($0) }) } catch { throw .quantizer(error) }
            var mapped: [TensorStatistics] = []
            for node in canonical.graph.nodes {
                guard let k = byName[node.name] else {
                    throw .io(path: node.name, detail: "fold search: node '\(node.name)' has no counterpart in the unfolded graph")
                }
                mapped.append(statistics[k])
            }
            return (canonical, mapped)
        }
        func error(_ folded: Set<String>) throws(QConvertError) -> Double {
            let v = try variant(folded)
            return try probe.error(graph: v.canonical.graph, statistics: v.statistics)
        }

        var folded = Set(candidates)
        var current = try error(folded)
        var records: [RewriteRecord] = []
        for name in candidates {
            var without = folded
            without.remove(name)
            let declined = try error(without)
            let numbers = "output relative error on \(probe.count) calibration samples \(format(current)) folded, \(format(declined)) kept as channelAffine"
            if declined < margin * current {
                folded = without
                records.append(RewriteRecord(rewrite: "batchnorm-forward-fold", layer: name, applied: false, reason: numbers + ": declined"))
                current = declined
            } else {
                records.append(RewriteRecord(rewrite: "batchnorm-forward-fold", layer: name, applied: true, reason: numbers))
            }
        }
        let chosen = try variant(folded)
        return Decision(canonical: chosen.canonical, statistics: chosen.statistics, records: records)
    }

    /// The float graph's outputs on `input`, and the logits (the value before a final softmax; the
    /// outputs when there is none): an integer model leaves a final softmax to the edge.
    static func floatReference(_ graph: Graph, input: [Float], batch: Int, batchSize: Int) throws(QConvertError) -> (outputs: [Float], logits: [Float]) {
        let executor: FloatExecutor
        do { executor = try FloatExecutor(graph: graph, maxBatch: batchSize) } catch { throw .io(path: "<fold search>", detail: "\(error)") }
        let out = graph.outputs[0]
        var logitsNode = out
        if case .activation(.softmax) = graph.nodes[out].op { logitsNode = graph.nodes[out].inputs[0] }
        var logits: [Float] = []
        let outputs = input.withUnsafeBufferPointer { x in
            executor.run(input: x, batch: batch) { node, values in if node == logitsNode { logits.append(contentsOf: values) } }
        }
        return (outputs[0], logits)
    }

    static func format(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "inf" }
}

/// Measures a candidate graph's quantized output error on the first calibration samples: quantize it
/// (nearest rounding unless `gptq`, the same for every candidate), run the model through the integer
/// simulator, and compare with the float model: `sqrt(sum (q - f)^2 / sum f^2)` over the outputs (the
/// logits, when the integer model leaves a final softmax to the edge, unless `probabilities`).
struct RewriteProbe {
    /// Samples per simulator (or emulation) pass. Integer results do not depend on it (every sample's
    /// arithmetic is its own); it bounds the pass's live activations as Int32 (ResNet50 at 224 px:
    /// ~13 MB per sample).
    static let passSize = 8

    let input: [Float]
    let count: Int
    let reference: (outputs: [Float], logits: [Float])
    private(set) var recipe: QuantizationRecipe
    /// The recipe's `gptqBelowBits`, applied only with `gptq`.
    let gptqBelowBits: Int?
    let rounding: RoundingProfile
    let batchSize: Int
    /// The calibration samples, for GPTQ's input covariances.
    let samples: any SampleSource
    let covarianceSamples: Int
    /// Compare probabilities, an edge softmax applied to the integer model's logits as the report's
    /// evaluation does, instead of the logits themselves (`ConvertJob.rewritesWithClipChoice`).
    var probabilities = false
    /// Round weights as the final conversion does below 8 bits: GPTQ where the recipe uses it, from the
    /// candidate's own input covariances on the first `covarianceSamples` calibration samples, as the
    /// written model's (`ConvertJob.rewritesWithClipChoice`). Not for the rewrites' own probes: there it
    /// mended one ranking and broke another (W4A4 sepconv_wide: activation-range equalization with `auto`
    /// clips declined, as the held-out images want; W3A3 mini_xception: CLE declined, 0.3955 -> 0.3916,
    /// where nearest rounding keeps it, 0.4347 -> 0.3688, and held-out agreement fell 63.33 -> 56.00 %).
    var gptq = false

    /// `graph`: any float graph computing the model's function (the reference). `covarianceSamples`: as
    /// `ConvertOptions.covarianceSamples`, the first calibration samples GPTQ's covariances come from.
    init(samples: any SampleSource, graph: Graph, recipe: QuantizationRecipe, rounding: RoundingProfile,
         batchSize: Int, covarianceSamples: Int, sampleCount: Int = FoldSearch.sampleCount) throws(QConvertError) {
        let n = min(sampleCount, samples.count)
        var input = [Float](repeating: 0, count: n * samples.sampleSize)
        try input.withUnsafeMutableBufferPointer { b throws(QConvertError) in try samples.read(0..<n, into: b) }
        self.input = input
        count = n
        reference = try FoldSearch.floatReference(graph, input: input, batch: n, batchSize: batchSize)
        var plain = recipe
        plain.gptqBelowBits = nil
        self.recipe = plain
        self.gptqBelowBits = recipe.gptqBelowBits
        self.rounding = rounding
        self.batchSize = batchSize
        self.samples = samples
        self.covarianceSamples = covarianceSamples
    }

    /// The same samples and reference, quantized with `change` applied to the recipe.
    func with(_ change: (inout QuantizationRecipe) -> Void) -> RewriteProbe {
        var probe = self
        change(&probe.recipe)
        return probe
    }

    func error(graph: Graph, statistics: [TensorStatistics]) throws(QConvertError) -> Double {
        var rounded = recipe
        if gptq { rounded.gptqBelowBits = gptqBelowBits }
        var quantizer = Quantizer(graph: graph, statistics: statistics, recipe: rounded)
        if gptq { quantizer.inputCovariances = try covariances(graph, recipe: rounded) }
        let result: QuantizationResult
        do { result = try quantizer.quantize() } catch { throw .quantizer(error) }
        // The integer simulator's fast kernels, not the float emulation: the two agree within 1 LSB
        // (docs/quantization.md, "Simulator vs float emulation"), and the emulation's exact-dot
        // convolutions took half of a default conversion's time in these probes.
        var out: [Float]
        if let simulator = try? IntegerSimulator(model: result.model, rounding: rounding, maxBatch: min(batchSize, Self.passSize)) {
            out = input.withUnsafeBufferPointer { simulator.run(input: $0, batch: count) }[0]
        } else {
            let emulator: QuantizedEmulator
            do { emulator = try QuantizedEmulator(model: result.model, maxBatch: min(batchSize, Self.passSize), rounding: rounding) } catch {
                throw .io(path: "<rewrite probe>", detail: "float emulation cannot run the model: \(error)")
            }
            out = input.withUnsafeBufferPointer { emulator.run(input: $0, batch: count) }[0]
        }
        var target = result.outputActivation == .softmax ? reference.logits : reference.outputs
        if probabilities && result.outputActivation == .softmax && count > 0 {
            Evaluator.softmax(&out, rowLength: out.count / count)
            target = reference.outputs
        }
        guard out.count == target.count else { return .infinity }
        var e = 0.0, s = 0.0
        for i in out.indices {
            let d = Double(out[i]) - Double(target[i])
            e += d * d
            s += Double(target[i]) * Double(target[i])
        }
        return s > 0 ? (e / s).squareRoot() : e.squareRoot()
    }

    /// `graph`'s input covariances where the recipe GPTQ-rounds layers for their width (some layer's
    /// weights narrower than `gptqBelowBits`); none otherwise. Depthwise layers GPTQ-rounded at every
    /// width (`gptqDepthwiseAtAnyWidth`) are rounded to nearest here: at 8 bits that rounding moves
    /// output SQNR by ~1 dB (dwsep_relu6 31.2 -> 32.4 dB), and a covariance pass per candidate doubled
    /// the conversion time of the depthwise models (`tools/rewrite-time.sh`: dwsep_relu6 2.3x, mini_xception
    /// 2.2x CPU against the steps off).
    private func covariances(_ graph: Graph, recipe: QuantizationRecipe) throws(QConvertError) -> [Int: InputCovariance] {
        let leastBits = ([recipe.weightBits] + Array(recipe.layerBits.values) + (recipe.firstLastBits.map { [$0] } ?? [])).min()!
        guard recipe.usesGPTQ(depthwise: false, bits: leastBits) else { return [:] }
        let n = min(samples.count, covarianceSamples)
        do {
            let executor = try FloatExecutor(graph: graph, maxBatch: batchSize)
            return try InputCovariance.collect(executor: executor, sampleCount: n, batchSize: batchSize) { start, count, buffer in
                try samples.read(start..<start + count, into: buffer)
            }
        } catch let e as QConvertError {
            throw e
        } catch {
            throw .io(path: "<rewrite probe>", detail: "input covariances failed: \(error)")
        }
    }
}
