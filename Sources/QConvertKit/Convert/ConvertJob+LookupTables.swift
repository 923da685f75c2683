import Calibration
import QCore
import Quantizer

extension ConvertJob {
    /// Whether lookup-table activations keep 8-bit outputs below 8 activation bits
    /// (`QuantizationRecipe.lookupTableOutputBits`), measured like the graph rewrites: kept unless the
    /// probe's output error with the tables' outputs at the requested width is lower by the margin. A
    /// wider table output costs no bytes, but its reader requantizes it to its own grid, and that second
    /// rounding can cost more than the table's own rounding saves (W6A6 concat_pool_leaky, whose
    /// LeakyReLU outputs a concatenation re-rounds: output SQNR 31.7 -> 29.2 dB with nearest rounding).
    /// Returns the recipe to quantize with and the record for the report (nil when no table is widened).
    func decideLookupTableOutputs(graph: Graph, statistics: [TensorStatistics], recipe: QuantizationRecipe,
                                  calibration: any SampleSource) throws(QConvertError) -> (recipe: QuantizationRecipe, record: RewriteRecord?) {
        let widened = Quantizer(graph: graph, statistics: statistics, recipe: recipe).widenedLookupTableOutputs()
        guard let bits = recipe.lookupTableOutputBits, !widened.isEmpty else { return (recipe, nil) }
        let probe = try RewriteProbe(samples: calibration, graph: graph, recipe: recipe, rounding: options.rounding,
                                     batchSize: options.batchSize, covarianceSamples: options.covarianceSamples)
        let wide = try probe.error(graph: graph, statistics: statistics)
        let narrow = try probe.with { $0.lookupTableOutputBits = nil }.error(graph: graph, statistics: statistics)
        let keep = !(narrow < FoldSearch.margin * wide)
        var chosen = recipe
        if !keep { chosen.lookupTableOutputBits = nil }
        let record = RewriteRecord(
            rewrite: "lookup-table-output-bits", layer: widened.joined(separator: ","), applied: keep,
            reason: "outputs at \(bits) bits instead of \(recipe.activationBits): output relative error on \(probe.count) calibration samples "
                + "\(FoldSearch.format(narrow)) without, \(FoldSearch.format(wide)) with" + (keep ? "" : ": declined"))
        return (chosen, record)
    }
}
