import Calibration
import FloatEngine
import QCore
import Quantizer

extension ConvertJob {
    /// The graph rewrites decided on calibration data, in order: forward BatchNorm folds (`FoldSearch`),
    /// cross-layer equalization (`CrossLayerEqualization`), then bias absorption (`BiasAbsorption`),
    /// each kept only where the quantized output error on the first calibration samples (`RewriteProbe`)
    /// drops by the margin. `executor` is the chosen graph's (nil when it is still `canonical`'s), except
    /// when bias absorption was kept: `canonical` and `statistics` are then the absorbed graph's, and
    /// `absorption` holds its executor and the per-channel shifts of the tensors it moved; `executor`
    /// stays the graph before absorption, the float function the written model is judged against.
    func measuredRewrites(original: Graph, canonical: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics],
                          foldCandidates: [String], recipe: QuantizationRecipe, calibration: any SampleSource) throws(QConvertError)
        -> (canonical: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics], executor: FloatExecutor?, records: [RewriteRecord],
            absorption: (executor: FloatExecutor, shifts: [Int: [Float]])?) {
        let o = options
        var probe: RewriteProbe?
        func measure() throws(QConvertError) -> RewriteProbe {
            if let probe { return probe }
            let made = try RewriteProbe(samples: calibration, graph: canonical.graph, recipe: recipe, rounding: o.rounding, batchSize: o.batchSize,
                                         covarianceSamples: o.covarianceSamples)
            probe = made
            return made
        }
        var chosen = try foldsAndEqualization(original: original, canonical: canonical, statistics: statistics,
                                              foldCandidates: foldCandidates, calibration: calibration, probe: measure)
        guard o.biasAbsorption else { return (chosen.canonical, chosen.statistics, chosen.executor, chosen.records, nil) }
        let absorbed = try absorbBiases(chosen.canonical.graph, statistics: chosen.statistics, calibration: calibration, probe: measure)
        chosen.records += absorbed.records
        guard let kept = absorbed.kept else { return (chosen.canonical, chosen.statistics, chosen.executor, chosen.records, nil) }
        return ((kept.graph, chosen.canonical.nodeMap), kept.statistics, chosen.executor, chosen.records, (kept.executor, kept.shifts))
    }

    /// Forward BatchNorm folds, then cross-layer equalization (`measuredRewrites`).
    private func foldsAndEqualization(original: Graph, canonical: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics],
                                      foldCandidates: [String], calibration: any SampleSource, probe measure: () throws(QConvertError) -> RewriteProbe) throws(QConvertError)
        -> (canonical: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics], executor: FloatExecutor?, records: [RewriteRecord]) {
        let o = options
        var canonical = canonical, statistics = statistics
        var records: [RewriteRecord] = []
        var executor: FloatExecutor?
        let equalize = o.equalization && !CrossLayerEqualization.equalize(canonical.graph).pairs.isEmpty
        guard !foldCandidates.isEmpty || equalize else { return (canonical, statistics, nil, []) }
        let probe = try measure()
        if !foldCandidates.isEmpty {
            let decision = try FoldSearch.decide(original: original, unfolded: canonical, statistics: statistics,
                                                 candidates: foldCandidates, probe: probe)
            canonical = decision.canonical
            statistics = decision.statistics
            records += decision.records
            do { executor = try FloatExecutor(graph: canonical.graph, maxBatch: o.batchSize) } catch { throw .graph(path: o.modelPath, error) }
        }
        guard o.equalization else { return (canonical, statistics, executor, records) }
        let equalized = CrossLayerEqualization.equalize(canonical.graph)
        guard !equalized.pairs.isEmpty else { return (canonical, statistics, executor, records) }
        let cle = try keepIfBetter(equalized, rewrite: "cross-layer-equalization", spread: "channel range spread",
                                   canonical: &canonical, statistics: &statistics, executor: &executor, records: &records,
                                   calibration: calibration, probe: probe)
        // A fold declined on its own may win once equalized (the folded pair's per-channel gains are what
        // equalization balances): try every candidate folded and equalized against the choice so far.
        let declined = records.filter { $0.rewrite == "batchnorm-forward-fold" && !$0.applied }.map(\.layer)
        if !declined.isEmpty {
            try foldsThenEqualization(original: original, canonical: &canonical, statistics: &statistics, executor: &executor,
                                      records: &records, declined: declined, foldCandidates: foldCandidates,
                                      calibration: calibration, probe: probe, best: cle.kept ? cle.after : cle.before)
        }
        if o.recipe.granularity == .perChannel && probe.recipe.calibrationMethod == .minmax {
            try activationEqualization(canonical: &canonical, statistics: &statistics, executor: &executor, records: &records,
                                       calibration: calibration, probe: probe)
        }
        return (canonical, statistics, executor, records)
    }

    /// Every forward fold taken, then equalized, against the choice so far (`best`, its probe error).
    private func foldsThenEqualization(original: Graph, canonical: inout (graph: Graph, nodeMap: [Int]), statistics: inout [TensorStatistics],
                                       executor: inout FloatExecutor?, records: inout [RewriteRecord], declined: [String],
                                       foldCandidates: [String], calibration: any SampleSource, probe: RewriteProbe,
                                       best: Double) throws(QConvertError) {
        let o = options
        let allFolded: (graph: Graph, nodeMap: [Int])
        do { allFolded = try GraphCanonicalizer.canonicalize(original, forwardFold: { foldCandidates.contains($0) }) } catch { throw .quantizer(error) }
        let combined = CrossLayerEqualization.equalize(allFolded.graph)
        guard !combined.pairs.isEmpty else { return }
        let combinedExecutor: FloatExecutor
        do { combinedExecutor = try FloatExecutor(graph: combined.graph, maxBatch: o.batchSize) } catch { throw .graph(path: o.modelPath, error) }
        let combinedStatistics = try calibrate(combinedExecutor, calibration)
        let both = try probe.error(graph: combined.graph, statistics: combinedStatistics)
        let win = both < FoldSearch.margin * best
        records.append(RewriteRecord(
            rewrite: "batchnorm-forward-fold+cross-layer-equalization", layer: declined.joined(separator: ","), applied: win,
            reason: "every forward fold taken, then equalized (\(combined.pairs.map { "\($0.producer) -> \($0.consumer)" }.joined(separator: ", "))): "
                + "output relative error on \(probe.count) calibration samples \(FoldSearch.format(both)), against \(FoldSearch.format(best)) "
                + "for the choice above" + (win ? "" : ": declined")))
        if win {
            canonical = (combined.graph, allFolded.nodeMap)
            statistics = combinedStatistics
            executor = combinedExecutor
        }
    }

    /// Activation-range equalization (`CrossLayerEqualization.equalizeActivations`) of the graph chosen so
    /// far, kept where the probe's error drops by the margin. Per-channel weight grids only: per tensor,
    /// the producer's own weight range is what `equalize` balances. Min-max activation clipping only (the
    /// second chain of `rewritesWithClipChoice`): balancing spans pays where a grid covers its tensor's
    /// span, not under `auto`'s clipped grids (W4A4 sepconv_wide, GPTQ-rounded: 92.67 -> 91.33 % there).
    private func activationEqualization(canonical: inout (graph: Graph, nodeMap: [Int]), statistics: inout [TensorStatistics],
                                        executor: inout FloatExecutor?, records: inout [RewriteRecord],
                                        calibration: any SampleSource, probe: RewriteProbe) throws(QConvertError) {
        let current = statistics
        let equalized = CrossLayerEqualization.equalizeActivations(canonical.graph) { k in
            guard current.indices.contains(k), current[k].count > 0 else { return nil }
            return zip(current[k].channelMins, current[k].channelMaxs).map { lo, hi in hi - lo }
        }
        guard !equalized.pairs.isEmpty else { return }
        _ = try keepIfBetter(equalized, rewrite: "activation-equalization", spread: "channel span spread",
                             canonical: &canonical, statistics: &statistics, executor: &executor, records: &records,
                             calibration: calibration, probe: probe)
    }

    /// An equalization of the graph chosen so far (`equalized`), kept where the probe's error drops by the
    /// margin: the equalized graph's statistics are gathered anew (it rescales the producers' output
    /// channels), the decision is recorded as `rewrite` (each pair's `spread` before and after), and a win
    /// replaces `canonical`'s graph, `statistics` and `executor`. Returns both probe errors.
    private func keepIfBetter(_ equalized: (graph: Graph, pairs: [CrossLayerEqualization.Pair]), rewrite: String, spread: String,
                              canonical: inout (graph: Graph, nodeMap: [Int]), statistics: inout [TensorStatistics],
                              executor: inout FloatExecutor?, records: inout [RewriteRecord], calibration: any SampleSource,
                              probe: RewriteProbe) throws(QConvertError) -> (kept: Bool, before: Double, after: Double) {
        let eqExecutor: FloatExecutor
        do { eqExecutor = try FloatExecutor(graph: equalized.graph, maxBatch: options.batchSize) } catch { throw .graph(path: options.modelPath, error) }
        let eqStatistics = try calibrate(eqExecutor, calibration)
        let before = try probe.error(graph: canonical.graph, statistics: statistics)
        let after = try probe.error(graph: equalized.graph, statistics: eqStatistics)
        let keep = after < FoldSearch.margin * before
        let spreads = equalized.pairs.map {
            "\($0.producer) -> \($0.consumer) (\(spread) \(FoldSearch.format(Double($0.spreadBefore)))x -> \(FoldSearch.format(Double($0.spreadAfter)))x)"
        }.joined(separator: ", ")
        records.append(RewriteRecord(
            rewrite: rewrite, layer: equalized.pairs.map(\.producer).joined(separator: ","), applied: keep,
            reason: "pairs \(spreads); output relative error on \(probe.count) calibration samples \(FoldSearch.format(before)) without, "
                + "\(FoldSearch.format(after)) with" + (keep ? "" : ": declined")))
        if keep {
            canonical.graph = equalized.graph
            statistics = eqStatistics
            executor = eqExecutor
        }
        return (keep, before, after)
    }

    /// Bias absorption on the graph the other rewrites chose: the shifted tensors (each absorbed pair's
    /// producer and any pooling after it) are calibrated again (every other tensor keeps its values on the
    /// calibration data), and the absorbed graph is kept where the probe's error drops by the margin.
    private func absorbBiases(_ graph: Graph, statistics: [TensorStatistics], calibration: any SampleSource,
                              probe measure: () throws(QConvertError) -> RewriteProbe) throws(QConvertError)
        -> (records: [RewriteRecord],
            kept: (graph: Graph, statistics: [TensorStatistics], executor: FloatExecutor, shifts: [Int: [Float]])?) {
        let absorbed = BiasAbsorption.absorb(graph) { k in
            statistics.indices.contains(k) && statistics[k].count > 0 ? (statistics[k].channelMins, statistics[k].channelMaxs) : nil
        }
        var records = absorbed.declined.map {
            RewriteRecord(rewrite: "bias-absorption", layer: $0.producer, applied: false, reason: "into \($0.consumer): \($0.reason)")
        }
        guard !absorbed.pairs.isEmpty else { return (records, nil) }
        let executor: FloatExecutor
        do { executor = try FloatExecutor(graph: absorbed.graph, maxBatch: options.batchSize) } catch { throw .graph(path: options.modelPath, error) }
        var shifts: [Int: [Float]] = [:]
        for pair in absorbed.pairs { for k in pair.shiftedNodes { shifts[k] = pair.shifts } }
        let fresh: [Int: TensorStatistics]
        do {
            fresh = try Calibrator.collect(executor: executor, nodes: Set(shifts.keys), sampleCount: calibration.count, batchSize: options.batchSize,
                                           read: { start, count, buffer in try calibration.read(start..<start + count, into: buffer) })
        } catch let e as QConvertError {
            throw e
        } catch {
            throw .io(path: options.calibrationPath ?? options.modelPath, detail: "calibration failed: \(error)")
        }
        let newStatistics = statistics.indices.map { fresh[$0] ?? statistics[$0] }
        let probe = try measure()
        let before = try probe.error(graph: graph, statistics: statistics)
        let after = try probe.error(graph: absorbed.graph, statistics: newStatistics)
        let keep = after < FoldSearch.margin * before
        let moved = absorbed.pairs.map { pair -> String in
            let nonzero = pair.shifts.filter { $0 != 0 }
            return "\(pair.producer) -> \(pair.consumer) (\(nonzero.count) of \(pair.shifts.count) channels, largest shift \(FoldSearch.format(Double(nonzero.map(abs).max() ?? 0))))"
        }.joined(separator: ", ")
        records.append(RewriteRecord(
            rewrite: "bias-absorption", layer: absorbed.pairs.map { $0.producer }.joined(separator: ","), applied: keep,
            reason: "channel offsets moved into the next layer's bias: \(moved); output relative error on \(probe.count) calibration samples "
                + "\(FoldSearch.format(before)) without, \(FoldSearch.format(after)) with" + (keep ? "" : ": declined")))
        return (records, keep ? (absorbed.graph, newStatistics, executor, shifts) : nil)
    }

    /// Statistics of every node of `executor`'s graph over the calibration samples.
    func calibrate(_ executor: FloatExecutor, _ calibration: any SampleSource) throws(QConvertError) -> [TensorStatistics] {
        do {
            return try Calibrator.collect(executor: executor, sampleCount: calibration.count, batchSize: options.batchSize,
                                          read: { start, count, buffer in try calibration.read(start..<start + count, into: buffer) })
        } catch let e as QConvertError {
            throw e
        } catch {
            throw .io(path: options.calibrationPath ?? options.modelPath, detail: "calibration failed: \(error)")
        }
    }
}
