import Calibration
import FloatEngine
import QCore
import Quantizer

extension ConvertJob {
    /// Calibration samples the clip choice is measured on (the first ones, at most this many): the two
    /// chains differ in every activation grid, and 64 samples did not resolve them (W4A4 sepconv_wide:
    /// 0.1037 auto, 0.1001 min-max, inside the margin) where 256 do (0.1205, 0.1049).
    static let clipChoiceSamples = 256

    /// The measured rewrites (`measuredRewrites`) run twice below 8 activation bits when the recipe clips
    /// activations by `auto`: once so, once with every activation clipped to its calibration min and max,
    /// and the min-max chain kept where its probe error (final weight rounding, probabilities,
    /// `clipChoiceSamples` samples) is lower by the margin. `auto` picks each tensor's clip by its own estimated error, and
    /// activation-range equalization, which balances channel spans, is what a min-max grid needs but not
    /// a clipped one: the two only pay together (W4A4 sepconv_wide 92.67 % auto, 84.67 % min-max alone,
    /// 94.67 % min-max with activation-range equalization). Returns the chain and the recipe it was
    /// measured with; the record of the choice is the last of the chain's records.
    func rewritesWithClipChoice(original: Graph, canonical: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics],
                                foldCandidates: [String], recipe: QuantizationRecipe, calibration: any SampleSource) throws(QConvertError)
        -> (chain: (canonical: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics], executor: FloatExecutor?, records: [RewriteRecord],
                    absorption: (executor: FloatExecutor, shifts: [Int: [Float]])?), recipe: QuantizationRecipe) {
        let auto = try measuredRewrites(original: original, canonical: canonical, statistics: statistics,
                                        foldCandidates: foldCandidates, recipe: recipe, calibration: calibration)
        guard recipe.calibrationMethod == .auto, recipe.activationBits < 8 else { return (auto, recipe) }
        var minmaxRecipe = recipe
        minmaxRecipe.calibrationMethod = .minmax
        var minmax = try measuredRewrites(original: original, canonical: canonical, statistics: statistics,
                                          foldCandidates: foldCandidates, recipe: minmaxRecipe, calibration: calibration)
        var probe = try RewriteProbe(samples: calibration, graph: canonical.graph, recipe: recipe, rounding: options.rounding,
                                     batchSize: options.batchSize, covarianceSamples: options.covarianceSamples,
                                     sampleCount: Self.clipChoiceSamples)
        probe.probabilities = true
        probe.gptq = true
        let autoError = try probe.error(graph: auto.canonical.graph, statistics: auto.statistics)
        let minmaxError = try probe.with { $0.calibrationMethod = .minmax }.error(graph: minmax.canonical.graph, statistics: minmax.statistics)
        let keep = minmaxError < FoldSearch.margin * autoError
        let record = RewriteRecord(
            rewrite: "activation-clip-minmax", layer: "*", applied: keep,
            reason: "every activation clipped to its calibration min and max instead of each tensor's least estimated error, the rewrites "
                + "measured again so: output relative error on \(probe.count) calibration samples \(FoldSearch.format(autoError)) auto, "
                + "\(FoldSearch.format(minmaxError)) min-max" + (keep ? "" : ": declined"))
        guard keep else {
            var chain = auto
            chain.records.append(record)
            return (chain, recipe)
        }
        minmax.records.append(record)
        return (minmax, minmaxRecipe)
    }
}
