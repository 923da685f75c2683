import Calibration
import FloatEngine
import QCore
import Quantizer

extension ConvertJob {
    /// The graph rewrites decided on calibration data, in order: forward BatchNorm folds (`FoldSearch`),
    /// then cross-layer equalization (`CrossLayerEqualization`), each kept only where the quantized
    /// output error on the first calibration samples (`RewriteProbe`) does not grow. `executor` is the
    /// chosen graph's (nil when it is still `canonical`'s).
    func measuredRewrites(original: Graph, canonical: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics],
                          foldCandidates: [String], recipe: QuantizationRecipe, calibration: any SampleSource) throws(QConvertError)
        -> (canonical: (graph: Graph, nodeMap: [Int]), statistics: [TensorStatistics], executor: FloatExecutor?, records: [RewriteRecord]) {
        let o = options
        var canonical = canonical, statistics = statistics
        var records: [RewriteRecord] = []
        var executor: FloatExecutor?
        let equalize = o.equalization && !CrossLayerEqualization.equalize(canonical.graph).pairs.isEmpty
        guard !foldCandidates.isEmpty || equalize else { return (canonical, statistics, nil, []) }
        let probe = try RewriteProbe(samples: calibration, graph: canonical.graph, recipe: recipe, rounding: o.rounding, batchSize: o.batchSize)
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
        // Equalization rescales the producers' output channels: their statistics must be gathered anew.
        let eqExecutor: FloatExecutor
        do { eqExecutor = try FloatExecutor(graph: equalized.graph, maxBatch: o.batchSize) } catch { throw .graph(path: o.modelPath, error) }
        let eqStatistics = try calibrate(eqExecutor, calibration)
        let before = try probe.error(graph: canonical.graph, statistics: statistics)
        let after = try probe.error(graph: equalized.graph, statistics: eqStatistics)
        let keep = after < FoldSearch.margin * before
        let spreads = equalized.pairs.map {
            "\($0.producer) -> \($0.consumer) (channel range spread \(FoldSearch.format(Double($0.spreadBefore)))x -> \(FoldSearch.format(Double($0.spreadAfter)))x)"
        }.joined(separator: ", ")
        records.append(RewriteRecord(
            rewrite: "cross-layer-equalization", layer: equalized.pairs.map(\.producer).joined(separator: ","), applied: keep,
            reason: "pairs \(spreads); output relative error on \(probe.count) calibration samples \(FoldSearch.format(before)) without, "
                + "\(FoldSearch.format(after)) with" + (keep ? "" : ": declined")))
        if keep {
            canonical.graph = equalized.graph
            statistics = eqStatistics
            executor = eqExecutor
        }
        // A fold declined on its own may win once equalized (the folded pair's per-channel gains are what
        // equalization balances): try every candidate folded and equalized against the choice so far.
        let declined = records.filter { $0.rewrite == "batchnorm-forward-fold" && !$0.applied }.map(\.layer)
        guard !declined.isEmpty else { return (canonical, statistics, executor, records) }
        let allFolded: (graph: Graph, nodeMap: [Int])
        do { allFolded = try GraphCanonicalizer.canonicalize(original, forwardFold: { foldCandidates.contains($0) }) } catch { throw .quantizer(error) }
        let combined = CrossLayerEqualization.equalize(allFolded.graph)
        guard !combined.pairs.isEmpty else { return (canonical, statistics, executor, records) }
        let combinedExecutor: FloatExecutor
        do { combinedExecutor = try FloatExecutor(graph: combined.graph, maxBatch: o.batchSize) } catch { throw .graph(path: o.modelPath, error) }
        let combinedStatistics = try calibrate(combinedExecutor, calibration)
        let best = keep ? after : before
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
        return (canonical, statistics, executor, records)
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
