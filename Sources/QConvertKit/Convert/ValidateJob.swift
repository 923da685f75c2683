import Emulation
import FixedPoint
import Foundation
import QBin
import Report
import Simulator

/// `qconvert validate`: runs a `.qbin` on a reference file's inputs in the integer simulator and
/// compares with the source framework's outputs (and labels), checking the gates.
public struct ValidateJob {
    public var modelPath: String
    public var referencePath: String
    public var gates = FidelityGates()
    /// Overrides the profile the file records (nil: the file's, `gemmlowp` for a 1.0 file).
    public var rounding: RoundingProfile?
    public var batchSize = 32
    public var dataset = "inputs"
    /// What `validate` reads from the reference file, for the error when a dataset is missing.
    static let referenceLayout = "qconvert validate reads /inputs, /outputs (the source framework's outputs for those inputs) " +
        "and optional /labels from --reference: write the file with these names (tools/make_fixtures.py writes data.h5 this way)"

    public init(modelPath: String, referencePath: String) {
        self.modelPath = modelPath; self.referencePath = referencePath
    }

    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws(QConvertError) -> ReportSummary {
        let (simulator, choice) = try QBinRunJob.loadSimulator(path: modelPath, rounding: rounding, maxBatch: batchSize)
        let rounding = choice.profile
        let model = simulator.model
        let emulator: QuantizedEmulator
        do { emulator = try QuantizedEmulator(model: model, rounding: rounding) } catch {
            throw .io(path: modelPath, detail: "float emulation cannot run the model: \(error)")
        }
        let samples = try SampleFile(path: referencePath, dataset: dataset, expectedShape: simulator.inputShape,
                                     missingHint: Self.referenceLayout)
        let outputSize = model.tensors[model.outputs[0]].elementCount
        let targets = try EvaluationTargets.read(path: referencePath, count: samples.count, outputSize: outputSize)
        guard let reference = targets.referenceOutputs else {
            throw .missingDataset(path: referencePath, dataset: "outputs", available: ["inputs"] + (targets.labels == nil ? [] : ["labels"]), hint: Self.referenceLayout)
        }
        try gates.checkMeasurable(samples: samples.count, hasLabels: targets.labels != nil, source: referencePath,
                                  moreSamples: "write samples to the reference file's /inputs and /outputs",
                                  labels: "add /labels to the reference file, or leave the gate out")
        let softmax = model.metadataValue("output.activation") == "softmax"
        let evaluator = Evaluator(simulator: simulator, emulator: emulator, float: nil, outputSoftmax: softmax)
        let e = try evaluator.evaluate(samples, batchSize: batchSize, progress: progress)

        let summary = ReportBuilder.evaluationSummary(
            source: EvaluationSource(kind: .referenceFile, file: referencePath), reference: reference, quantized: e.quantizedOutputs,
            classes: outputSize, labels: targets.labels, samples: e.samples, outputKind: softmax ? .probabilities : .logits)
        var layers: [LayerReport] = []
        for (k, op) in model.ops.enumerated() {
            let w = op.kind.hasConstantInputs && op.inputs.count > 1 ? model.tensors[op.inputs[1]] : nil
            layers.append(LayerReport(
                index: k, name: op.name, op: op.kind.description, weightBits: w?.type.bits,
                activationBits: model.tensors[op.outputs[0]].type.bits,
                granularity: w.map { $0.scales.count > 1 ? .perChannel : .perTensor },
                clip: model.calibrationMethod(forTensor: model.tensors[op.outputs[0]].name).map { method in
                    let t = model.tensors[op.outputs[0]]
                    return Report.ClipRange(low: Double(t.scales[0] * Float(Int32(t.type.minValue) - t.zeroPoints[0])),
                                            high: Double(t.scales[0] * Float(Int32(t.type.maxValue) - t.zeroPoints[0])), method: method)
                },
                weightSQNR: nil, activationSQNR: nil, outputRelativeError: nil, activationOutliers: nil, weightOutliers: nil,
                simulatorVsEmulation: LSBHistogram(counts: e.layers[k].lsbCounts, maxAbsDifference: Int64(e.layers[k].maxLSB)),
                accumulator: nil))
        }
        let option = { (key: String) in model.metadataValue(QMetadataEntry.optionPrefix + key) }
        let recipe = Recipe(
            weightBits: Int(option("weight_bits") ?? "") ?? 0, activationBits: Int(option("activation_bits") ?? "") ?? 0,
            firstLastEightBit: option("first_last_bits") == "8", bitOverrides: [],
            weightGranularity: option("weight_granularity") == "per-tensor" ? .perTensor : .perChannel,
            calibrationMethod: option("calibration_method") ?? "unknown", roundingProfile: rounding.rawValue, seed: 0,
            dataFree: option("data_free") == "yes", calibrationFile: nil, calibrationSamples: Int(option("calibration_samples") ?? ""))
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: modelPath)[.size] as? Int) ?? 0
        let floatParams = FloatModelSize.parameters(model)
        var warnings: [String] = []
        if option("data_free") == "yes" { warnings.append("the model was converted data-free (no calibration data)") }
        if let note = choice.note { warnings.append(note) }
        let name = ReportBuilder.displayName(modelPath)
        let report = FidelityReport(
            kind: .validate,
            model: ModelInfo(name: name, sourceFile: model.metadataValue("source.sha256").map { "sha256 " + $0 } ?? "unknown",
                             quantizedFile: modelPath, generator: model.metadataValue("producer") ?? "unknown"),
            recipe: recipe, size: ReportBuilder.sizeSummary(model, fileBytes: fileSize, floatParams: floatParams),
            evaluation: summary, layers: layers, warnings: warnings,
            gates: ReportBuilder.gates(gates, summary, maxLSB: ReportBuilder.maxLSB(e)))
        return ReportSummary(report)
    }
}
