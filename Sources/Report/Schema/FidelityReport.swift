/// The fidelity report of one conversion or validation run: how the model was quantized, how big it
/// is, and how far the quantized model is from the float one, overall and layer by layer.
///
/// Written as JSON by `ReportWriter.json(_:)` and as a self-contained HTML page by
/// `ReportWriter.html(_:)`. docs/report.md is the contract for every field, its units and the
/// versioning rule. A `nil` value means "not measured" or "undefined" (no labels, data-free run, a
/// layer without weights); it is written as JSON `null`.
public struct FidelityReport: Codable, Sendable, Equatable {
    /// The schema version this code writes. Minor: fields or enum cases added; major: anything else.
    public static let currentSchemaVersion = "1.4"

    /// `"major.minor"`; readers accept any minor of a major they know and ignore unknown fields.
    public var schemaVersion: String
    /// Which command wrote the report.
    public var kind: ReportKind
    /// What was converted and what tool wrote it.
    public var model: ModelInfo
    /// The options that produced the quantized model.
    public var recipe: Recipe
    /// File sizes and compression.
    public var size: SizeSummary
    /// Whole-model agreement with the float model; `nil` for a data-free run that evaluated nothing.
    public var evaluation: EvaluationSummary?
    /// One entry per quantized layer, in execution (depth) order.
    public var layers: [LayerReport]
    /// Sentences a user should read (clipped outliers, accumulator fallbacks, too few samples ...).
    public var warnings: [String]
    /// Pass/fail thresholds checked by `qconvert validate` or `convert` (its `--min-agreement` ... options); empty without any.
    public var gates: [Gate]
    /// TV smoothing insertion (`--tv-smoothing`); absent when off.
    public var tvSmoothing: TVSmoothingReport?
    /// Error growth block by block through depth (schema 1.4); absent without a float reference.
    public var forwardStability: ForwardStability?

    public init(schemaVersion: String = FidelityReport.currentSchemaVersion, kind: ReportKind, model: ModelInfo,
                recipe: Recipe, size: SizeSummary, evaluation: EvaluationSummary?, layers: [LayerReport],
                warnings: [String], gates: [Gate], tvSmoothing: TVSmoothingReport? = nil,
                forwardStability: ForwardStability? = nil) {
        self.tvSmoothing = tvSmoothing
        self.forwardStability = forwardStability
        self.schemaVersion = schemaVersion
        self.kind = kind
        self.model = model
        self.recipe = recipe
        self.size = size
        self.evaluation = evaluation
        self.layers = layers
        self.warnings = warnings
        self.gates = gates
    }

    /// `.passed` when every gate passed, `.failed` when one did not, `.noGates` when none were checked.
    public var verdict: Verdict {
        if gates.isEmpty { return .noGates }
        return gates.allSatisfy(\.passed) ? .passed : .failed
    }
}

/// The command that wrote a report.
public enum ReportKind: String, Codable, Sendable, CaseIterable {
    case convert
    case validate
}

/// The overall outcome of a report's gates.
public enum Verdict: String, Codable, Sendable {
    case passed
    case failed
    case noGates
}

/// What was converted, by what.
public struct ModelInfo: Codable, Sendable, Equatable {
    /// A short display name, usually the source file's stem.
    public var name: String
    /// The float model as given on the command line (`.h5`).
    public var sourceFile: String
    /// The quantized model (`.qbin`) written or validated.
    public var quantizedFile: String?
    /// The writer, e.g. `"qconvert 0.1.0"`. No timestamps anywhere: reports must be reproducible.
    public var generator: String
    /// SHA-256 (lower-case hex) of the `.qbin` bytes this report describes: a report and a model that
    /// belong together can be told from a mixed pair.
    public var quantizedSHA256: String?

    public init(name: String, sourceFile: String, quantizedFile: String?, generator: String, quantizedSHA256: String? = nil) {
        self.name = name
        self.sourceFile = sourceFile
        self.quantizedFile = quantizedFile
        self.generator = generator
        self.quantizedSHA256 = quantizedSHA256
    }
}
