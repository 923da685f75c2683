import Foundation
import QBin
import QCore
import Quantizer
import Report

/// Assembles the fidelity report (docs/report.md) from what a conversion or validation measured.
enum ReportBuilder {
    static func convertReport(_ o: ConvertOutcome) -> FidelityReport {
        let recipe = o.recipe
        // Every op whose bits are not the plain --weight-bits / --activation-bits, with the rule that set them.
        var overrides: [BitOverride] = []
        for layer in o.result.layers {
            let reason = layer.bitsReason
            let wide = layer.activationBits == 32
            guard reason != nil || wide else { continue }
            overrides.append(BitOverride(layer: layer.name, weightBits: layer.weightBits, activationBits: layer.activationBits,
                                         reason: [reason, wide ? "model output written as int32 logits" : nil].compactMap { $0 }.joined(separator: "; ")))
        }
        let reportRecipe = Recipe(
            weightBits: recipe.weightBits, activationBits: recipe.activationBits, firstLastEightBit: recipe.firstLastBits == 8,
            bitOverrides: overrides, weightGranularity: recipe.granularity == .perChannel ? .perChannel : .perTensor,
            calibrationMethod: recipe.calibrationMethod.name, roundingProfile: o.options.rounding.rawValue, seed: o.options.seed,
            dataFree: o.options.calibrationPath == nil, calibrationFile: o.options.calibrationPath,
            calibrationSamples: o.calibrationSamples,
            weightRounding: recipe.weightRoundingRule,
            rewrites: o.result.rewrites.isEmpty ? nil : o.result.rewrites.map {
                RewriteReport(rewrite: $0.rewrite, layer: $0.layer, applied: $0.applied, reason: $0.reason)
            })
        let size = sizeSummary(o.writtenModel, fileBytes: o.fileSize, floatParams: FloatModelSize.parameters(o.writtenModel))

        let e = o.evaluation
        let outputKind: OutputKind = finalSoftmax(o.canonical) ? .probabilities : .logits
        let kind: EvaluationSourceKind = o.options.evaluationPath == nil ? .heldOutCalibration : .referenceFile
        var summary = evaluationSummary(source: EvaluationSource(kind: kind, file: o.evaluationSource), reference: e.floatOutputs ?? [],
                                        quantized: e.quantizedOutputs, classes: e.outputSize, labels: o.targets.labels,
                                        samples: e.samples, outputKind: outputKind)
        summary.noiseFloor = e.noiseFloor?.summary(gate: o.options.gates.minAgreement)

        var layers: [LayerReport] = []
        for (k, op) in o.writtenModel.ops.enumerated() {
            let q = o.result.layers.indices.contains(k) && o.result.layers[k].name == op.name ? o.result.layers[k] : nil
            let c = e.layers[k]
            var outliers: OutlierStats?
            if let node = q?.node, o.statistics.indices.contains(node) {
                let s = o.statistics[node]
                let p = Double(max(abs(s.percentile(99.95)), abs(s.percentile(0.05))))
                outliers = OutlierStats(min: Double(s.min), max: Double(s.max), absP999: p,
                                        excessKurtosis: s.kurtosis.isFinite ? s.kurtosis : 0, count: s.count)
            }
            let hasFloat = c.floatEnergy > 0
            layers.append(LayerReport(
                index: k, name: op.name, op: op.kind.description, weightBits: q?.weightBits,
                activationBits: o.writtenModel.tensors[op.outputs[0]].type.bits,
                granularity: q?.granularity.map { $0 == .perChannel ? .perChannel : .perTensor },
                clip: q.map { Report.ClipRange(low: Double($0.clipLow), high: Double($0.clipHigh), method: $0.clipMethod) },
                weightSQNR: q?.weightSQNR, activationSQNR: hasFloat ? c.activationSQNR : nil,
                outputRelativeError: hasFloat ? c.relativeError : nil, activationOutliers: outliers, weightOutliers: nil,
                simulatorVsEmulation: LSBHistogram(counts: c.lsbCounts, maxAbsDifference: Int64(c.maxLSB)),
                accumulator: q?.accumulatorBound.map { AccumulatorCheck(boundAbs: $0, status: $0 <= Int64(Int32.max) ? .ok : .fallback) },
                weightRounding: q?.weightRounding))
        }
        let name = ReportBuilder.displayName(o.options.modelPath)
        let warnings = o.warnings + [FidelityWarnings.belowNoiseFloor(summary, layers: layers, model: o.writtenModel)].compactMap { $0 }
        return FidelityReport(kind: .convert,
                              model: ModelInfo(name: name, sourceFile: o.options.modelPath, quantizedFile: o.options.outputPath,
                                               generator: ConvertJob.producer, quantizedSHA256: o.modelSHA256),
                              recipe: reportRecipe, size: size, evaluation: summary, layers: layers, warnings: warnings,
                              gates: gates(o.options.gates, summary, maxLSB: maxLSB(e)), tvSmoothing: tvReport(o),
                              forwardStability: ForwardStabilityProfile.profile(o.writtenModel, layers: layers))
    }

    static func tvReport(_ o: ConvertOutcome) -> TVSmoothingReport? {
        guard o.options.tvSmoothing != .off else { return nil }
        func map(_ s: TVOutlierSummary) -> TVMapStatistics {
            TVMapStatistics(min: s.min, max: s.max, absP999: s.absP999, excessKurtosis: s.excessKurtosis,
                            clippedShare: s.clippedShare, clipBits: s.clipBits)
        }
        return TVSmoothingReport(mode: "\(o.options.tvSmoothing)", steps: o.options.tvSteps, autoScoreOff: o.tvScores?.off,
                                 autoScoreChosen: o.tvScores?.chosen,
                                 points: o.tvPoints.map { TVSmoothingPoint(layer: $0.layer, relativeGamma: $0.relativeGamma, gamma: $0.gamma,
                                                                           before: map($0.before), after: $0.after.map(map),
                                                                           histogram: TVHistogramPair(low: $0.histogram.low, high: $0.histogram.high,
                                                                                                      before: $0.histogram.before, after: $0.histogram.after)) })
    }

    /// `fixtures/resnet_bn/model.h5` -> `resnet_bn/model` (a generic file name says little alone).
    static func displayName(_ path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let stem = url.deletingPathExtension().lastPathComponent
        let folder = url.deletingLastPathComponent().lastPathComponent
        return ["model", "m", "net", "quantized"].contains(stem.lowercased()) && !folder.isEmpty ? "\(folder)/\(stem)" : stem
    }

    static func finalSoftmax(_ graph: Graph) -> Bool {
        guard let out = graph.outputs.first else { return false }
        switch graph.nodes[out].op {
        case .activation(.softmax): return true
        case .dense(let d): return d.activation == .softmax
        default: return false
        }
    }

    static func sizeSummary(_ model: QModel, fileBytes: Int, floatParams: Int) -> SizeSummary {
        let totals = model.weightTotals()
        return SizeSummary(fileBytes: fileBytes, floatBytes: 4 * floatParams, parameterCount: floatParams,
                           packedWeightBytes: totals.packedBytes, idealWeightBytes: Double(totals.idealBytes))
    }

    /// The largest simulator vs emulation difference of any op, each op fed the simulator's own inputs.
    /// (End to end, an upstream 1-LSB difference reaches wide int32 outputs at their full resolution, so
    /// an end-to-end difference is not a per-LSB measure there.)
    static func maxLSB(_ e: Evaluation) -> Int {
        Int(e.layers.map(\.maxLSB).max() ?? 0)
    }

    static func evaluationSummary(source: EvaluationSource, reference: [Float], quantized: [Float], classes: Int,
                                  labels: [Int]?, samples: Int, outputKind: OutputKind) -> EvaluationSummary {
        let comparable = !reference.isEmpty && reference.count == quantized.count
        func metric(_ f: () throws -> Double) -> Double? { comparable ? (try? f()) : nil }
        var floatAccuracy: Double?, quantizedAccuracy: Double?
        if let labels, labels.count * classes == quantized.count {
            quantizedAccuracy = try? ReportMetrics.accuracy(quantized, labels: labels, classes: classes)
            if comparable { floatAccuracy = try? ReportMetrics.accuracy(reference, labels: labels, classes: classes) }
        }
        return EvaluationSummary(
            source: source, samples: samples,
            top1Agreement: metric { try ReportMetrics.top1Agreement(reference, quantized, classes: classes) },
            floatAccuracy: floatAccuracy, quantizedAccuracy: quantizedAccuracy,
            outputCosine: metric { try ReportMetrics.cosine(reference, quantized) },
            outputMSE: metric { try ReportMetrics.mse(reference, quantized) },
            softmaxKL: metric { try ReportMetrics.klDivergence(reference: reference, test: quantized, classes: classes, outputKind: outputKind) },
            outputSQNR: metric { try ReportMetrics.sqnrDB(reference: reference, test: quantized) },
            outputKind: outputKind)
    }

    static func gates(_ g: FidelityGates, _ s: EvaluationSummary, maxLSB: Int) -> [Gate] {
        var gates: [Gate] = []
        if let t = g.minAgreement {
            gates.append(.evaluated(name: "min-agreement", comparison: .atLeast, threshold: t, measured: s.top1Agreement))
        }
        if let t = g.maxAccuracyDrop {
            gates.append(.evaluated(name: "max-accuracy-drop", comparison: .atMost, threshold: t, measured: s.accuracyDrop))
        }
        if let t = g.minOutputSQNR {
            gates.append(.evaluated(name: "min-output-sqnr", comparison: .atLeast, threshold: t, measured: s.outputSQNR, unit: "dB"))
        }
        if let t = g.maxLSBError {
            gates.append(.evaluated(name: "max-lsb-error", comparison: .atMost, threshold: Double(t), measured: Double(maxLSB), unit: "LSB"))
        }
        return gates
    }

    /// Writes the JSON report (and HTML when asked) atomically.
    /// Writes the reports through one `OutputStage`: both appear, or neither.
    static func write(_ report: FidelityReport, json: String?, html: String?) throws(QConvertError) {
        let stage = OutputStage()
        try self.stage(report, json: json, html: html, into: stage)
        try stage.commit()
    }

    /// Writes the HTML page and the JSON report to temporary files of `stage` (renamed in that order).
    static func stage(_ report: FidelityReport, json: String?, html: String?, into stage: OutputStage) throws(QConvertError) {
        if let html {
            let temporary = try stage.add(html)
            try OutputStage.writeBytes(Array(ReportWriter.html(report).utf8), to: temporary, destination: html)
        }
        if let json {
            let data: Data
            do { data = try ReportWriter.json(report) } catch { throw .io(path: json, detail: "cannot encode the report: \(error)") }
            let temporary = try stage.add(json)
            try OutputStage.writeBytes([UInt8](data), to: temporary, destination: json)
        }
    }
}
