import FixedPoint
import Quantizer

/// Fidelity gates shared by `convert` and `validate`; nil = not checked.
public struct FidelityGates: Sendable, Equatable {
    /// Least top-1 agreement with the reference (0...1).
    public var minAgreement: Double?
    /// Largest accuracy drop (float minus quantized, 0...1) when labels exist.
    public var maxAccuracyDrop: Double?
    /// Least output SQNR in dB.
    public var minOutputSQNR: Double?
    /// Largest |simulator - emulation| in LSBs over every op output.
    public var maxLSBError: Int?
    public init() {}
    public var isEmpty: Bool { minAgreement == nil && maxAccuracyDrop == nil && minOutputSQNR == nil && maxLSBError == nil }
}

/// Everything `qconvert convert` needs, validated by the CLI.
public struct ConvertOptions: Sendable {
    public var modelPath: String
    /// Architecture JSON of a Keras 3 `.weights.h5` model (`--config`); nil: looked for beside it.
    public var configPath: String?
    public var outputPath: String
    public var recipe = QuantizationRecipe()
    /// Calibration samples (`dataset`, default `inputs`); nil = data-free.
    public var calibrationPath: String?
    public var dataset = "inputs"
    /// Use at most this many calibration samples (after the held-out split).
    public var calibrationSamples: Int?
    /// Evaluation data (`/inputs`, optional `/outputs`, `/labels`); nil = a held-out part of the calibration file.
    public var evaluationPath: String?
    /// Share of the calibration file held out for evaluation when there is no evaluation file.
    public var heldOutFraction = 0.2
    public var seed: UInt64 = 0
    public var rounding: RoundingProfile = .gemmlowp
    public var batchSize = 32
    /// JSON report; default `<output without .qbin>.report.json`.
    public var reportPath: String?
    public var reportHTMLPath: String?
    public var gates = FidelityGates()
    /// Calibration samples whose input patches feed GPTQ's covariances (the first ones of the calibration set).
    public var covarianceSamples = 256
    /// Noise-floor draws over the evaluation samples (`NoiseFloor`); 0 skips the measurement.
    public var noiseFloorDraws = 8
    /// TV smoothing insertion (docs/tv-smoothing.md), steps per inserted op, and explicit points (nil: before every convolution).
    public var tvSmoothing: TVSmoothingMode = .off
    public var tvSteps = 1
    public var tvLayers: [String]?
    /// Forward BatchNorm folds: decided on calibration samples (`FoldSearch`, the default), always
    /// taken where exact (the algebraic rule before measurement), or never.
    public var forwardFolds: ForwardFoldPolicy = .measured
    /// Cross-layer equalization (`CrossLayerEqualization`), kept where it measures better on the
    /// calibration data; never applied without calibration data.
    public var equalization = true
    /// Bias absorption (`BiasAbsorption`) after the other measured rewrites, kept where it measures
    /// better on the calibration data; never applied without calibration data.
    public var biasAbsorption = true

    public init(modelPath: String, outputPath: String) {
        self.modelPath = modelPath; self.outputPath = outputPath
    }

    /// `model.qbin` -> `model.report.json`.
    public var resolvedReportPath: String {
        if let reportPath { return reportPath }
        let base = outputPath.hasSuffix(".qbin") ? String(outputPath.dropLast(5)) : outputPath
        return base + ".report.json"
    }
}

/// How forward BatchNorm folds (a BatchNorm after an activation folded into the next layer) are chosen.
public enum ForwardFoldPolicy: String, Sendable, CaseIterable {
    case measured, always, never
}
