/// Whole-model agreement of the quantized model with the float model on evaluation samples.
///
/// Fractions are in 0 ... 1. Output metrics compare the final outputs (logits or probabilities,
/// `outputKind`) over all samples and classes.
public struct EvaluationSummary: Codable, Sendable, Equatable {
    /// Where the samples came from.
    public var source: EvaluationSource
    /// Samples evaluated.
    public var samples: Int
    /// Share of samples whose float and quantized top-1 classes agree.
    public var top1Agreement: Double?
    /// Top-1 accuracy of the float model; `nil` without labels.
    public var floatAccuracy: Double?
    /// Top-1 accuracy of the quantized model; `nil` without labels.
    public var quantizedAccuracy: Double?
    /// Cosine similarity of the flattened outputs.
    public var outputCosine: Double?
    /// Mean squared error of the outputs, in output units squared.
    public var outputMSE: Double?
    /// Mean over samples of `KL(softmax(float) ‖ softmax(quantized))`, in nats.
    public var softmaxKL: Double?
    /// `sqnrDB(float outputs, quantized outputs)` in dB.
    public var outputSQNR: Double?
    /// Whether the model's outputs are logits or probabilities (decides how KL applies softmax).
    public var outputKind: OutputKind
    /// The float model's agreement with itself under its grids' rounding noise alone; `nil` where it was
    /// not measured (no float model, or `--noise-floor-draws 0`). Schema 1.2.
    public var noiseFloor: NoiseFloor?

    public init(source: EvaluationSource, samples: Int, top1Agreement: Double?, floatAccuracy: Double?,
                quantizedAccuracy: Double?, outputCosine: Double?, outputMSE: Double?, softmaxKL: Double?,
                outputSQNR: Double?, outputKind: OutputKind, noiseFloor: NoiseFloor? = nil) {
        self.source = source
        self.samples = samples
        self.top1Agreement = top1Agreement
        self.floatAccuracy = floatAccuracy
        self.quantizedAccuracy = quantizedAccuracy
        self.outputCosine = outputCosine
        self.outputMSE = outputMSE
        self.softmaxKL = softmaxKL
        self.outputSQNR = outputSQNR
        self.outputKind = outputKind
        self.noiseFloor = noiseFloor
    }

    /// `floatAccuracy − quantizedAccuracy` (positive: the quantized model is worse); `nil` without labels.
    public var accuracyDrop: Double? {
        guard let f = floatAccuracy, let q = quantizedAccuracy else { return nil }
        return f - q
    }
}

/// The samples an evaluation ran on.
public struct EvaluationSource: Codable, Sendable, Equatable {
    public var kind: EvaluationSourceKind
    /// The file the samples were read from.
    public var file: String

    public init(kind: EvaluationSourceKind, file: String) {
        self.kind = kind
        self.file = file
    }
}

/// Held-out calibration samples (never used to choose ranges) or a separate reference file.
public enum EvaluationSourceKind: String, Codable, Sendable, CaseIterable {
    /// The last N samples of the calibration file, withheld from calibration.
    case heldOutCalibration
    /// A reference file of inputs (and expected outputs / labels), e.g. `data.h5`.
    case referenceFile
}

/// What a model's final output holds.
public enum OutputKind: String, Codable, Sendable, CaseIterable {
    case logits
    case probabilities
}
