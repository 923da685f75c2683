import Calibration
import FixedPoint
import FloatEngine
import Ops
import QBin
import QCore
import Quantizer
import Report
import Simulator

/// The conversion step that inserts TV smoothing (docs/tv-smoothing.md): picks the insertion points,
/// the gamma of each (`--tv-smoothing GAMMA`, or `auto`'s search), and re-calibrates the smoothed graph
/// so that clip ranges and bias correction see the smoothed maps.
struct TVSmoothingStage {
    let canonical: Graph
    let executor: FloatExecutor
    let statistics: [TensorStatistics]
    let calibration: any SampleSource
    let recipe: QuantizationRecipe
    let rangeOverrides: [Int: TensorRange]
    let rounding: RoundingProfile
    let batchSize: Int
    let steps: Int
    let layers: [String]?
    /// Calibration samples for GPTQ's input covariances when the recipe rounds with GPTQ; nil otherwise.
    let covarianceSamples: Int?

    /// Relative gammas `auto` tries at each point (times the point's `TVInsertion.scale`).
    static let autoCandidates: [Double] = [0.005, 0.01, 0.02, 0.05]
    /// `auto` keeps a gamma only when it lowers the output error by more than this share on both halves of
    /// the scoring samples (`Scorer.Score.improves`): smaller gains are within what another calibration
    /// sample would change, and would not carry to new data.
    static let autoMinimumGain = 0.02
    /// Standard errors by which a winning plan's paired per-sample error must be lower (about a one-sided
    /// 2.5 % false-win rate per comparison under a normal approximation).
    static let autoSignificance = 2.0
    /// Calibration samples `auto` scores candidates on (half on each half of the calibration samples).
    static let autoScoreSamples = 256
    /// Fewer calibration samples than this: `auto` inserts nothing.
    static let autoLeastSamples = 16

    struct Outcome {
        var graph: Graph
        var nodeMap: [Int]
        var statistics: [TensorStatistics]
        var executor: FloatExecutor
        var points: [TVPointSummary]
        /// Output MSE against the original float model on the scoring samples: off, and the chosen plan (auto only).
        var scores: (off: Double, chosen: Double)?
    }

    func run(mode: TVSmoothingMode) throws(QConvertError) -> Outcome {
        let points = try TVInsertion.points(canonical, layers: layers)
        var choices: [Int: Double] = [:] // point -> relative gamma
        var scores: (off: Double, chosen: Double)?
        switch mode {
        case .off: break
        case .relative(let g): for p in points { choices[p] = g }
        case .auto where calibration.count < Self.autoLeastSamples:
            break // too few samples to calibrate on one half and score on the other: insert nothing
        case .auto:
            let scorer = try Scorer(stage: self)
            let off = try scorer.score(self, [:])
            var best = off
            for p in points {
                var pick: (gamma: Double, score: Scorer.Score)?
                for g in Self.autoCandidates {
                    var trial = choices
                    trial[p] = g
                    let s = try scorer.score(self, trial)
                    if s.improves(on: best, by: Self.autoMinimumGain), s.total < (pick?.score.total ?? .infinity) { pick = (g, s) }
                }
                if let pick { choices[p] = pick.gamma; best = pick.score }
            }
            // Final check: the plan as it will be written (calibrated on all samples) against `off` written
            // the same way, on the scoring samples of both halves. The halves' models were calibrated on
            // half the data each and quantization is chaotic at low widths, so a plan that won there must
            // also win on the models that ship.
            if !choices.isEmpty {
                let shippedOff = try scorer.score(self, [:], crossFitted: false)
                let shipped = try scorer.score(self, choices, crossFitted: false)
                if !shipped.improves(on: shippedOff, by: Self.autoMinimumGain) { choices = [:]; best = off }
            }
            scores = (off.total, best.total)
        }
        var outcome = try build(choices)
        outcome.scores = scores
        outcome.points = points.map { p in
            let before = statistics[p]
            let rel = choices[p]
            let tvNode = rel == nil ? nil : outcome.nodeMap[p] + 1
            let after = tvNode.map { outcome.statistics[$0] }
            return TVPointSummary(layer: canonical.nodes[p].name, relativeGamma: rel,
                                  gamma: rel.map { $0 * TVInsertion.scale(before) }, steps: rel == nil ? nil : steps,
                                  before: Self.outliers(before, method: recipe.calibrationMethod, bits: recipe.activationBits),
                                  after: after.map { Self.outliers($0, method: recipe.calibrationMethod, bits: recipe.activationBits) },
                                  histogram: Self.histograms(before, after))
        }
        return outcome
    }

    /// The graph with the chosen TV nodes, its executor and statistics, calibrated on `samples` (default:
    /// all calibration samples; without TV nodes and on all samples, the statistics already measured).
    /// Gammas are relative to each point's scale on all calibration samples, so every fold inserts the same op.
    func build(_ choices: [Int: Double], samples: (any SampleSource)? = nil) throws(QConvertError) -> Outcome {
        if choices.isEmpty && samples == nil {
            return Outcome(graph: canonical, nodeMap: Array(canonical.nodes.indices), statistics: statistics, executor: executor, points: [])
        }
        let source = samples ?? calibration
        var ops: [Int: TVSmoothing] = [:]
        for (p, g) in choices { ops[p] = TVSmoothing(gamma: Float(g * TVInsertion.scale(statistics[p])), steps: steps) }
        let (graph, map) = TVInsertion.insert(canonical, ops)
        let smoothed: FloatExecutor
        do { smoothed = try FloatExecutor(graph: graph, maxBatch: batchSize) } catch { throw .graph(path: "--tv-smoothing", error) }
        let stats: [TensorStatistics]
        do {
            stats = try Calibrator.collect(executor: smoothed, sampleCount: source.count, batchSize: batchSize,
                                           read: { start, count, buffer in try source.read(start..<start + count, into: buffer) })
        } catch let e as QConvertError {
            throw e
        } catch {
            throw .io(path: "--tv-smoothing", detail: "calibration of the smoothed model failed: \(error)")
        }
        return Outcome(graph: graph, nodeMap: map, statistics: stats, executor: smoothed, points: [])
    }

    /// Bins of the report's histogram pair.
    static let histogramBins = 48

    /// Both maps' value shares over one axis spanning both ranges.
    static func histograms(_ before: TensorStatistics, _ after: TensorStatistics?) -> TVHistogram {
        var low = Double(before.min), high = Double(before.max)
        if let after, after.count > 0 { low = Swift.min(low, Double(after.min)); high = Swift.max(high, Double(after.max)) }
        if !(high > low) { high = low + 1 }
        return TVHistogram(low: low, high: high, before: before.shares(low: low, high: high, bins: histogramBins),
                           after: after?.shares(low: low, high: high, bins: histogramBins))
    }

    /// Range, 99.9th percentile of |x|, excess kurtosis and the share the clip range at `bits` clips.
    static func outliers(_ s: TensorStatistics, method: ClipMethod, bits: Int) -> TVOutlierSummary {
        let r = s.clipRange(method: method, bits: bits)
        return TVOutlierSummary(min: Double(s.min), max: Double(s.max), absP999: TVInsertion.scale(s),
                                excessKurtosis: s.kurtosis.isFinite ? s.kurtosis : 0,
                                clippedShare: s.fractionOutside(low: r.low, high: r.high), clipBits: bits)
    }

    /// Scores a plan by cross-fitting: the calibration samples are split into two halves; the plan is
    /// calibrated and quantized with the final recipe (clip ranges, bias correction, GPTQ covariances) on
    /// one half, and the integer simulator's outputs on (up to `autoScoreSamples / 2` of) the other half
    /// are compared with the ORIGINAL float model's outputs, and the other way round. A plan must lower
    /// the error on both halves (and keep top-1 agreement) to win, so a gain has to carry to samples its
    /// own calibration never saw.
    struct Scorer {
        struct Fold {
            let calibration: SampleSlice
            let inputs: [Float]
            let reference: [Float]
            let count: Int
        }
        let folds: [Fold]

        /// Output MSE on each half, each scored sample's squared error, and top-1 agreement over both.
        struct Score {
            var halves: (Double, Double)
            var perSample: [Double]
            var agreement: Double
            var total: Double { (halves.0 + halves.1) / 2 }

            /// Lower by more than `gain` (a share) on both halves, lower per sample by more than
            /// `TVSmoothingStage.autoSignificance` standard errors of the paired differences (a gain that
            /// the choice of samples alone would not produce), and with no lower agreement.
            func improves(on other: Score, by gain: Double) -> Bool {
                guard halves.0 < other.halves.0 * (1 - gain), halves.1 < other.halves.1 * (1 - gain), agreement >= other.agreement,
                      perSample.count == other.perSample.count, perSample.count > 1 else { return false }
                let d = zip(other.perSample, perSample).map { $0 - $1 }
                let mean = d.reduce(0, +) / Double(d.count)
                let variance = d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(d.count - 1)
                return mean > TVSmoothingStage.autoSignificance * (variance / Double(d.count)).squareRoot()
            }
        }

        init(stage: TVSmoothingStage) throws(QConvertError) {
            let all = stage.calibration.count, half = all / 2
            let halves = [half..<all, 0..<half] // fold k calibrates on halves[k] and scores the other half
            var folds: [Fold] = []
            for k in 0..<2 {
                let scored = halves[1 - k]
                let n = Swift.min(scored.count, TVSmoothingStage.autoScoreSamples / 2)
                var buffer = [Float](repeating: 0, count: n * stage.calibration.sampleSize)
                try buffer.withUnsafeMutableBufferPointer { b throws(QConvertError) in
                    try stage.calibration.read(scored.lowerBound..<scored.lowerBound + n, into: b)
                }
                let executor = stage.executor
                let reference = buffer.withUnsafeBufferPointer { executor.run(input: $0, batch: n)[0] }
                folds.append(Fold(calibration: SampleSlice(stage.calibration, halves[k]), inputs: buffer,
                                  reference: reference, count: n))
            }
            self.folds = folds
        }

        /// `crossFitted`: each fold's plan is calibrated on the fold's calibration half; otherwise on all
        /// calibration samples (the model that would be written), scored on the same samples.
        func score(_ stage: TVSmoothingStage, _ choices: [Int: Double], crossFitted: Bool = true) throws(QConvertError) -> Score {
            var mse: [Double] = [], perSample: [Double] = [], agree = 0.0, rows = 0
            // Not cross-fitted, both folds read the same graph calibrated on all samples: build it once.
            let shared: Outcome? = crossFitted ? nil : try stage.build(choices)
            for fold in folds {
                let built: Outcome
                if let shared { built = shared } else { built = try stage.build(choices, samples: fold.calibration) }
                let (outputs, row) = try quantizedOutputs(stage, built, fold)
                var sum = 0.0
                for n in 0..<fold.count {
                    var sample = 0.0
                    for i in n * row..<Swift.min((n + 1) * row, outputs.count, fold.reference.count) {
                        let d = Double(outputs[i]) - Double(fold.reference[i])
                        sample += d * d
                    }
                    perSample.append(sample / Double(Swift.max(row, 1)))
                    sum += sample
                }
                mse.append(sum / Double(Swift.max(fold.reference.count, 1)))
                agree += ((try? ReportMetrics.top1Agreement(fold.reference, outputs, classes: row)) ?? 0) * Double(fold.count)
                rows += fold.count
            }
            return Score(halves: (mse[0], mse[1]), perSample: perSample, agreement: agree / Double(Swift.max(rows, 1)))
        }

        /// The simulator's outputs on the fold's scored samples for the plan `built` (calibrated on the fold's
        /// other half, or on all samples for the final check).
        private func quantizedOutputs(_ stage: TVSmoothingStage, _ built: Outcome, _ fold: Fold) throws(QConvertError) -> ([Float], Int) {
            var quantizer = Quantizer(graph: built.graph, statistics: built.statistics, recipe: stage.recipe)
            var overrides: [Int: TensorRange] = [:]
            for (node, range) in stage.rangeOverrides { overrides[built.nodeMap[node]] = range }
            quantizer.rangeOverrides = overrides
            if let samples = stage.covarianceSamples {
                // GPTQ's covariances come from the fold's calibration half, in the final check too (there
                // the statistics use every sample; the written model's covariances use the first 256):
                // measured this way in docs/experiments.md.
                let source = fold.calibration
                do {
                    quantizer.inputCovariances = try InputCovariance.collect(executor: built.executor, sampleCount: Swift.min(source.count, samples),
                                                                             batchSize: stage.batchSize) { start, n, buffer in
                        try source.read(start..<start + n, into: buffer)
                    }
                } catch let e as QConvertError {
                    throw e
                } catch {
                    throw .io(path: "--tv-smoothing", detail: "covariances of the smoothed model failed: \(error)")
                }
            }
            let result: QuantizationResult
            do { result = try quantizer.quantize() } catch { throw .quantizer(error) }
            let simulator: IntegerSimulator
            do { simulator = try IntegerSimulator(model: result.model, rounding: stage.rounding, maxBatch: stage.batchSize) } catch {
                throw .simulator(path: "--tv-smoothing", error)
            }
            var outputs = fold.inputs.withUnsafeBufferPointer { simulator.run(input: $0, batch: fold.count)[0] }
            let row = fold.reference.count / Swift.max(fold.count, 1)
            if result.outputActivation == .softmax { Evaluator.softmax(&outputs, rowLength: row) }
            return (outputs, row)
        }
    }
}

/// One insertion point in the report.
public struct TVPointSummary: Sendable, Equatable {
    public var layer: String
    /// nil: nothing inserted here (auto found no gamma that helps).
    public var relativeGamma: Double?
    public var gamma: Double?
    public var steps: Int?
    public var before: TVOutlierSummary
    /// The smoothed map's statistics; nil when nothing was inserted.
    public var after: TVOutlierSummary?
    public var histogram: TVHistogram
}

/// Value shares of a map before and after smoothing over `before.count` bins of `[low, high]`.
public struct TVHistogram: Sendable, Equatable {
    public var low: Double, high: Double
    public var before: [Double]
    public var after: [Double]?
}

public struct TVOutlierSummary: Sendable, Equatable {
    public var min: Double, max: Double
    public var absP999: Double
    public var excessKurtosis: Double
    /// Share of the values outside the clip range chosen at `clipBits`.
    public var clippedShare: Double
    public var clipBits: Int
}
