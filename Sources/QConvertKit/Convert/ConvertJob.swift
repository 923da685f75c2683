import Calibration
import Emulation
import FloatEngine
import Foundation
import QBin
import QCore
import Quantizer
import Simulator

/// `qconvert convert`: import, calibrate, quantize, write the `.qbin` to a temporary file, load that
/// file into the integer simulator and evaluate it against the float model. Nothing appears under the
/// output names until `ConvertOutcome.commit(json:html:)` renames the reports and then the `.qbin`.
public struct ConvertJob {
    public var options: ConvertOptions
    public init(options: ConvertOptions) { self.options = options }

    public static let producer = QConvertVersion.producer

    /// Stages for the progress display.
    public enum Stage: String, Sendable { case calibrate, evaluate }

    /// `phase` sees each phase's wall time and memory as it ends (`convert --timings`).
    public func run(progress: (Stage, Int, Int) -> Void = { _, _, _ in },
                    phase: @escaping (PhaseTiming) -> Void = { _ in }) throws(QConvertError) -> ConvertOutcome {
        let o = options
        var clock = PhaseClock(report: phase)
        let loaded = try ModelLoader.load(path: o.modelPath, configPath: o.configPath)
        let modelBytes = (try? FileManager.default.attributesOfItem(atPath: o.modelPath)[.size] as? Int) ?? 0
        try MemoryBudget.check(modelBytes, for: "hashing the model file", path: o.modelPath, hint: "raise --max-memory")
        let sha: String
        do { sha = try SHA256.hex(fileAt: o.modelPath) } catch { throw .io(path: o.modelPath, detail: "cannot read: \(error)") }
        // Forward BatchNorm folds are decided on the calibration data (FoldSearch): calibrate without them.
        let foldCandidates: [String]
        let measure = o.forwardFolds == .measured && o.calibrationPath != nil
        do { foldCandidates = measure ? try GraphCanonicalizer.forwardFoldCandidates(loaded.graph) : [] } catch {
            throw .quantizer(error)
        }
        let foldAll = foldCandidates.isEmpty && o.forwardFolds != .never
        var canonical: (graph: Graph, nodeMap: [Int])
        do { canonical = try GraphCanonicalizer.canonicalize(loaded.graph, forwardFold: { _ in foldAll }) } catch {
            throw .quantizer(error)
        }
        // Evaluation holds the float model, the integer simulator and the float emulation side by side.
        try MemoryBudget.check(MemoryBudget.multiplying(MemoryBudget.floatPeak(canonical.graph, batch: o.batchSize), 3),
                               for: "converting (float model, simulator and emulation) at --batch-size \(o.batchSize)",
                               path: o.modelPath, hint: "lower --batch-size, or convert the model at a smaller input size")
        var executor: FloatExecutor
        do { executor = try FloatExecutor(graph: canonical.graph, maxBatch: o.batchSize) } catch { throw .graph(path: o.modelPath, error) }
        try checkLayerBits(canonical.graph)
        clock.end("import")

        // Samples: calibration, evaluation (a separate file, or the held-out tail of the calibration file).
        var warnings: [String] = []
        var recipe = o.recipe
        let calibration: any SampleSource
        var evaluation: (any SampleSource)?
        var evaluationSource = ""
        var targets = EvaluationTargets()
        var rangeOverrides: [Int: TensorRange] = [:]
        if let evalPath = o.evaluationPath {
            let evalFile = try SampleFile(path: evalPath, dataset: "inputs", expectedShape: executor.inputShape,
                                          missingHint: "--eval reads /inputs, optional /outputs and /labels: write the file with these names")
            evaluation = evalFile
            evaluationSource = "\(evalFile.count) samples of \(evalPath)"
            targets = try EvaluationTargets.read(path: evalPath, count: evalFile.count,
                                                 outputSize: executor.outputShapes[0].reduce(1, *))
        }
        if let path = o.calibrationPath {
            let file = try SampleFile(path: path, dataset: o.dataset, expectedShape: executor.inputShape)
            guard file.count > 0 else { throw .io(path: path, detail: "dataset '\(o.dataset)' holds no samples") }
            if evaluation != nil {
                calibration = SampleSlice(file, 0..<min(file.count, o.calibrationSamples ?? file.count))
            } else {
                let heldOut = file.count < 2 ? 0 : max(1, Int((Double(file.count) * o.heldOutFraction).rounded()))
                let used = min(file.count - heldOut, o.calibrationSamples ?? file.count)
                calibration = SampleSlice(file, 0..<max(used, 1))
                evaluation = SampleSlice(file, (file.count - heldOut)..<file.count)
                evaluationSource = "held-out last \(heldOut) of \(file.count) samples of \(path) (not used for calibration)"
                if heldOut == 0 {
                    warnings.append("\(path) holds 1 sample, so none is held out and fidelity is not measured (pass --eval DATA.h5)")
                } else if heldOut < 100 {
                    warnings.append("the held-out split has only \(heldOut) samples; agreement figures are coarse (pass --eval DATA.h5 with more)")
                }
            }
        } else {
            let range = DataFree.syntheticInputRange(canonical.graph)
            let count = o.calibrationSamples ?? 128
            calibration = SyntheticSamples(count: count, sampleSize: executor.inputShape.reduce(1, *),
                                           low: range.low, high: range.high, seed: o.seed)
            rangeOverrides = DataFree.batchNormRanges(original: loaded.graph, canonical: canonical.graph, nodeMap: canonical.nodeMap)
            recipe.biasCorrection = false
            recipe.constantChannelsToBias = false
            if evaluation == nil {
                evaluation = SyntheticSamples(count: 64, sampleSize: executor.inputShape.reduce(1, *),
                                              low: range.low, high: range.high, seed: o.seed &+ 1)
                evaluationSource = "64 synthetic samples (no data given)"
            }
            warnings.append("data-free conversion: no calibration data was used; ranges come from BatchNorm statistics and synthetic \(range.low)...\(range.high) inputs, bias correction is off")
        }

        try o.gates.checkMeasurable(samples: evaluation?.count ?? 0, hasLabels: targets.labels != nil, source: evaluationSource,
                                    moreSamples: "pass --eval DATA.h5, or a calibration file of at least 2 samples to hold some out",
                                    labels: "pass --eval DATA.h5 holding /inputs and /labels, or leave the gate out")
        if let path = o.calibrationPath { warnings += SampleCountWarnings.calibration(calibration.count, path: path) }

        // Calibrate.
        var statistics: [TensorStatistics]
        let calibrationStart = DispatchTime.now().uptimeNanoseconds
        var garbage = GarbageCount()
        do {
            statistics = try Calibrator.collect(executor: executor, sampleCount: calibration.count, batchSize: o.batchSize,
                                                read: { start, count, buffer in
                                                    try calibration.read(start..<start + count, into: buffer)
                                                    garbage.scan(buffer, firstSample: start, sampleSize: calibration.sampleSize)
                                                },
                                                progress: { progress(.calibrate, $0, $1) })
        } catch let e as QConvertError {
            throw e
        } catch {
            throw .io(path: o.calibrationPath ?? o.modelPath, detail: "calibration failed: \(error)")
        }
        if let warning = garbage.warning(source: o.calibrationPath ?? "the synthetic inputs") { warnings.append(warning) }
        clock.end("calibration statistics")
        // Before any measured rewrite: equalization rescales channels the BatchNorm check compares.
        warnings += try InputScaleCheck.warnings(options: o, original: loaded.graph, canonical: canonical.graph,
                                                 nodeMap: canonical.nodeMap, statistics: statistics, evaluation: evaluation)
        clock.end("input checks")
        // Measured rewrites (forward BatchNorm folds, cross-layer equalization): ConvertJob+Rewrites.swift.
        var rewrites: [RewriteRecord] = []
        // With bias absorption kept, the written model holds some tensors shifted per channel: it is judged
        // against `reference` (the graph before absorption), those tensors compared less their shifts.
        var reference: FloatExecutor?
        var channelShifts: [Int: [Float]] = [:]
        if o.calibrationPath != nil {
            let measured = try rewritesWithClipChoice(original: loaded.graph, canonical: canonical, statistics: statistics,
                                                      foldCandidates: foldCandidates, recipe: recipe, calibration: calibration)
            let chosen = measured.chain
            recipe = measured.recipe
            canonical = chosen.canonical
            statistics = chosen.statistics
            rewrites = chosen.records
            if let e = chosen.executor { executor = e }
            if let absorbed = chosen.absorption {
                reference = executor
                executor = absorbed.executor
                channelShifts = absorbed.shifts
            }
            let tables = try decideLookupTableOutputs(graph: canonical.graph, statistics: statistics, recipe: recipe, calibration: calibration)
            recipe = tables.recipe
            rewrites += tables.record.map { [$0] } ?? []
        }
        clock.end("measured rewrites")
        // TV smoothing (docs/tv-smoothing.md): may replace the graph, executor and statistics the quantizer sees.
        let leastWeightBits = ([recipe.weightBits] + Array(recipe.layerBits.values) + (recipe.firstLastBits.map { [$0] } ?? [])).min()!
        let anyDepthwise = canonical.graph.nodes.contains { if case .depthwiseConv2D = $0.op { return true } else { return false } }
        let usesGPTQ = o.calibrationPath != nil && recipe.usesGPTQ(depthwise: anyDepthwise, bits: leastWeightBits)
        let tvStage = TVSmoothingStage(canonical: canonical.graph, executor: executor, statistics: statistics, calibration: calibration,
                                     recipe: recipe, rangeOverrides: rangeOverrides, rounding: o.rounding, batchSize: o.batchSize,
                                     steps: o.tvSteps, layers: o.tvLayers, covarianceSamples: usesGPTQ ? o.covarianceSamples : nil)
        let tv = try tvStage.run(mode: o.tvSmoothing)
        clock.end("tv smoothing")
        var smoothedOverrides: [Int: TensorRange] = [:]
        for (node, range) in rangeOverrides { smoothedOverrides[tv.nodeMap[node]] = range }
        // Input covariances for GPTQ rounding (calibration data only; bias correction's data rule).
        var covariances: [Int: InputCovariance] = [:]
        if usesGPTQ {
            let count = min(calibration.count, o.covarianceSamples)
            do {
                covariances = try InputCovariance.collect(executor: tv.executor, sampleCount: count, batchSize: o.batchSize) { start, n, buffer in
                    try calibration.read(start..<start + n, into: buffer)
                }
            } catch let e as QConvertError {
                throw e
            } catch {
                throw .io(path: o.calibrationPath ?? o.modelPath, detail: "calibration failed: \(error)")
            }
        }
        let calibrationSeconds = Double(DispatchTime.now().uptimeNanoseconds - calibrationStart) / 1e9
        clock.end("gptq covariances")

        // Quantize and write.
        var quantizer = Quantizer(graph: tv.graph, statistics: tv.statistics, recipe: recipe)
        quantizer.rangeOverrides = smoothedOverrides
        quantizer.inputCovariances = covariances
        quantizer.metadata = [QMetadataEntry(QMetadataEntry.producer, Self.producer),
                              QMetadataEntry(QMetadataEntry.sourceSHA256, sha),
                              QMetadataEntry(QMetadataEntry.rounding, o.rounding.rawValue),
                              QMetadataEntry(QMetadataEntry.sourceParameters, "\(FloatModelSize.parameters(loaded.graph))"),
                              QMetadataEntry("option.calibration_samples", "\(calibration.count)"),
                              QMetadataEntry("option.data_free", o.calibrationPath == nil ? "yes" : "no")]
        if o.tvSmoothing != .off {
            quantizer.metadata.append(QMetadataEntry("option.tv_smoothing", "\(o.tvSmoothing)"))
            quantizer.metadata.append(QMetadataEntry("option.tv_steps", "\(o.tvSteps)"))
        }
        var result: QuantizationResult
        do { result = try quantizer.quantize() } catch { throw .quantizer(error) }
        result.rewrites = rewrites + result.rewrites
        warnings.append(contentsOf: result.warnings)
        // Written to a temporary file that `ConvertOutcome.commit` renames into place after the reports.
        let stage = OutputStage()
        let staged = try stage.add(o.outputPath, last: true)
        let bytes: [UInt8]
        do { bytes = try QBinWriter.encode(result.model) } catch { throw .qbin(path: o.outputPath, error) }
        try OutputStage.writeBytes(bytes, to: staged, destination: o.outputPath)
        clock.end("quantize and write")

        // Evaluate the file that was written.
        try MemoryBudget.check(MemoryBudget.simulatorPeak(result.model, batch: o.batchSize), for: "the integer simulator at --batch-size \(o.batchSize)",
                               path: o.outputPath, hint: "lower --batch-size")
        let simulator: IntegerSimulator
        do { simulator = try IntegerSimulator(path: staged, rounding: o.rounding, maxBatch: o.batchSize) } catch {
            throw .simulator(path: o.outputPath, error)
        }
        let emulator: QuantizedEmulator
        do { emulator = try QuantizedEmulator(model: simulator.model, rounding: o.rounding) } catch {
            throw .io(path: o.outputPath, detail: "float emulation cannot run the model: \(error)")
        }
        // Judged against the ORIGINAL float model: its nodes' values against the tensors their smoothed twins became.
        let tensorForOriginal = canonical.graph.nodes.indices.map { result.tensorForNode[tv.nodeMap[$0]] }
        var evaluator = Evaluator(simulator: simulator, emulator: emulator, float: (reference ?? executor, tensorForOriginal),
                                  outputSoftmax: result.outputActivation == .softmax)
        evaluator.channelShifts = channelShifts
        evaluator.noiseDraws = o.noiseFloorDraws
        evaluator.noiseSeed = o.seed
        // Every path above sets `evaluation` (evaluation file, held-out split, or synthetic samples).
        if evaluation!.count == 0 {
            warnings.append("the evaluation set (\(evaluationSource)) is empty: nothing was measured; pass --eval DATA.h5 with samples")
        }
        clock.end("simulator and emulator")
        let measured = try evaluator.evaluate(evaluation!, batchSize: o.batchSize) { progress(.evaluate, $0, $1) }
        clock.end("evaluation")

        return ConvertOutcome(options: o, recipe: recipe, origin: loaded.origin, sourceSHA256: sha, canonical: tv.graph,
                              statistics: tv.statistics, tvPoints: tv.points, tvScores: tv.scores, result: result,
                              writtenModel: simulator.model, fileSize: bytes.count,
                              modelSHA256: SHA256.hex(bytes), stage: stage,
                              evaluation: measured, evaluationSource: evaluationSource, targets: targets,
                              calibrationSamples: calibration.count, calibrationSeconds: calibrationSeconds, warnings: warnings)
    }

    /// Fails before calibration (the slow part) on a recipe the quantizer would reject.
    private func checkLayerBits(_ graph: Graph) throws(QConvertError) {
        do { try Quantizer(graph: graph, statistics: [], recipe: options.recipe).checkRecipe() } catch { throw .quantizer(error) }
    }
}

/// Everything a conversion produced, for the report and the CLI summary.
public struct ConvertOutcome {
    public var options: ConvertOptions
    public var recipe: QuantizationRecipe
    public var origin: String
    public var sourceSHA256: String
    public var canonical: Graph
    public var statistics: [TensorStatistics]
    /// TV smoothing insertion points (empty when off) and, for auto, the scoring MSE off / chosen.
    public var tvPoints: [TVPointSummary]
    public var tvScores: (off: Double, chosen: Double)?
    public var result: QuantizationResult
    /// The model as read back from the written file.
    public var writtenModel: QModel
    public var fileSize: Int
    /// SHA-256 of the `.qbin` bytes, recorded in the report so that a report names the model it describes.
    public var modelSHA256: String
    /// The `.qbin` written to a temporary file, renamed into place by `commit(json:html:)`.
    let stage: OutputStage
    var evaluation: Evaluation
    public var evaluationSource: String
    public var targets: EvaluationTargets
    public var calibrationSamples: Int
    public var calibrationSeconds: Double
    public var warnings: [String]
}

/// Counts calibration values that carry no information: NaN, infinite, or beyond `absurd` in magnitude
/// (float32 data near its limits, e.g. 1e30, gives infinite or meaningless ranges).
struct GarbageCount {
    static let absurd: Float = 1e30
    var nonFinite = 0, huge = 0, total = 0
    var firstSample: Int?

    mutating func scan(_ buffer: UnsafeMutableBufferPointer<Float>, firstSample start: Int, sampleSize: Int) {
        for (i, v) in buffer.enumerated() where !v.isFinite || abs(v) > Self.absurd {
            if v.isFinite { huge += 1 } else { nonFinite += 1 }
            if firstSample == nil { firstSample = start + i / max(sampleSize, 1) }
        }
        total += buffer.count
    }

    /// A `warning:` line, or nil when every value was usable.
    func warning(source: String) -> String? {
        guard nonFinite + huge > 0, let first = firstSample else { return nil }
        let share = String(format: "%.3g%%", 100 * Double(nonFinite + huge) / Double(max(total, 1)))
        return "calibration data \(source): \(nonFinite) NaN or infinite and \(huge) absurd (|x| > 1e30) values of \(total) "
            + "(\(share); first in sample \(first)); the ranges calibrated from them are meaningless: check the data's scaling"
    }
}
