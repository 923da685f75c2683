import Foundation
@testable import Report

/// Reports with realistic made-up numbers, for the writer tests and the example page
/// (docs/report-example.png). Deterministic: no randomness, no clock.
enum SampleReport {
    /// A ResNet-like Fashion-MNIST model at W4/A8 with the first and last layer at 8 bits, validated
    /// against a reference file, with one failing gate and a hostile layer name.
    static func resnet(hostileName: String = "conv<b>&\"x\"") -> FidelityReport {
        let layerSpecs: [(String, String, Int?)] = [
            ("conv2d", "conv2D", 8), ("conv2d_1", "conv2D", 4), ("conv2d_2", "conv2D", 4), ("add", "add", nil),
            ("max_pooling2d", "maxPool2D", nil), ("conv2d_3", "conv2D", 4), (hostileName, "conv2D", 4),
            ("conv2d_5", "conv2D", 4), ("add_1", "add", nil), ("depthwise_conv2d", "depthwiseConv2D", 4),
            ("conv2d_6", "conv2D", 4), ("concatenate", "concatenate", nil), ("global_average_pooling2d", "averagePool2D", nil),
            ("dense", "dense", 4), ("dense_1", "dense", 8),
        ]
        let layers = layerSpecs.enumerated().map { index, spec -> LayerReport in
            let (name, op, bits) = spec
            let depth = Double(index)
            let hasWeights = bits != nil
            let weightSQNR: Double? = bits.map { Double($0) * 6.02 - 1.25 + (op == "depthwiseConv2D" ? -4.5 : 0) + 0.3 * sin(depth) }
            let activationSQNR = 38.5 - 1.1 * depth + 1.5 * cos(depth)
            let relativeError = pow(10, -activationSQNR / 20) * (1 + 0.05 * depth)
            let kurtosis = op == "depthwiseConv2D" ? 41.7 : 1.2 + 0.6 * depth.truncatingRemainder(dividingBy: 4)
            let identical = 1 - 0.004 * Double(index % 5)
            let compared = 4096 * (index + 1)
            let off1 = Int(Double(compared) * (1 - identical))
            return LayerReport(
                index: index, name: name, op: op, weightBits: bits, activationBits: 8,
                granularity: hasWeights ? .perChannel : nil,
                clip: ClipRange(low: op == "add" ? -3.75 - depth * 0.1 : 0, high: 2.5 + depth * 0.37,
                                method: op == "dense" && bits == 8 ? "minmax" : "percentile:99.99"),
                weightSQNR: weightSQNR, activationSQNR: activationSQNR, outputRelativeError: relativeError,
                activationOutliers: OutlierStats(min: op == "add" ? -5.1 : 0, max: 3.2 + depth * 0.9 + (op == "depthwiseConv2D" ? 14 : 0),
                                                 absP999: 2.4 + depth * 0.3, excessKurtosis: kurtosis, count: 512 * compared),
                weightOutliers: hasWeights ? OutlierStats(min: -0.41, max: 0.38, absP999: 0.29, excessKurtosis: 2.4, count: 1000) : nil,
                simulatorVsEmulation: LSBHistogram(counts: [compared - off1 - (index == 9 ? 3 : 0), off1, index == 9 ? 3 : 0, 0],
                                                   maxAbsDifference: index == 9 ? 2 : (off1 > 0 ? 1 : 0)),
                accumulator: hasWeights ? AccumulatorCheck(boundAbs: Int64(9 * 64) * 7 * 255 * Int64(1 + index % 3),
                                                           status: .ok) : nil)
        }
        return FidelityReport(
            kind: .validate,
            model: ModelInfo(name: "resnet_bn", sourceFile: "fixtures/resnet_bn/model.h5", quantizedFile: "out/resnet_bn.w4.qbin",
                             generator: "qconvert 0.1.0"),
            recipe: Recipe(weightBits: 4, activationBits: 8, firstLastEightBit: true,
                           bitOverrides: [BitOverride(layer: "conv2d", weightBits: 8, activationBits: nil, reason: "first layer kept at 8 bits"),
                                          BitOverride(layer: "dense_1", weightBits: 8, activationBits: nil, reason: "last layer kept at 8 bits")],
                           weightGranularity: .perChannel, calibrationMethod: "percentile:99.99", roundingProfile: "gemmlowp",
                           seed: 42, dataFree: false, calibrationFile: "fixtures/resnet_bn/calib.h5", calibrationSamples: 512),
            size: SizeSummary(fileBytes: 61_472, floatBytes: 398_760, parameterCount: 99_690, packedWeightBytes: 50_912,
                              idealWeightBytes: 50_317.5),
            evaluation: EvaluationSummary(
                source: EvaluationSource(kind: .referenceFile, file: "fixtures/resnet_bn/data.h5"), samples: 300,
                top1Agreement: 0.98, floatAccuracy: 0.9133333333333333, quantizedAccuracy: 0.9033333333333333,
                outputCosine: 0.9987654321, outputMSE: 0.0123456789, softmaxKL: 0.00876543, outputSQNR: 24.87654321,
                outputKind: .logits,
                noiseFloor: NoiseFloor(draws: 8, top1AgreementMean: 0.9925, top1AgreementMin: 0.98666, top1AgreementMax: 0.99666,
                                       shareAtGate: 1)),
            layers: layers,
            warnings: ["depthwise_conv2d: activation max 22.1 is 4.6x its 99.9th percentile; outliers set the range",
                       "\(hostileName): 4-bit weights, SQNR below 25 dB"],
            gates: [Gate.evaluated(name: "top1Agreement", comparison: .atLeast, threshold: 0.97, measured: 0.98),
                    Gate.evaluated(name: "accuracyDrop", comparison: .atMost, threshold: 0.5, measured: 1.0, unit: "pp"),
                    Gate.evaluated(name: "outputSQNR", comparison: .atLeast, threshold: 20, measured: 24.87654321, unit: "dB")])
    }

    /// A data-free conversion: no evaluation, no gates, a layer whose error is undefined.
    static func dataFree() -> FidelityReport {
        FidelityReport(
            kind: .convert,
            model: ModelInfo(name: "tiny", sourceFile: "tiny.h5", quantizedFile: nil, generator: "qconvert test"),
            recipe: Recipe(weightBits: 8, activationBits: 8, firstLastEightBit: false, bitOverrides: [], weightGranularity: .perTensor,
                           calibrationMethod: "none", roundingProfile: "single", seed: 0, dataFree: true, calibrationFile: nil,
                           calibrationSamples: nil),
            size: SizeSummary(fileBytes: 0, floatBytes: 400, parameterCount: 100, packedWeightBytes: 100, idealWeightBytes: 100),
            evaluation: nil,
            layers: [LayerReport(index: 0, name: "dense", op: "dense", weightBits: 8, activationBits: 8, granularity: .perTensor,
                                 clip: nil, weightSQNR: 0.5, activationSQNR: nil, outputRelativeError: nil, activationOutliers: nil,
                                 weightOutliers: nil, simulatorVsEmulation: nil,
                                 accumulator: AccumulatorCheck(boundAbs: 1 << 33, status: .fallback))],
            warnings: [], gates: [])
    }
}
