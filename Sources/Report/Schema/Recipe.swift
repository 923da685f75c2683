/// The options that produced the quantized model: enough to reproduce it from the same inputs.
public struct Recipe: Codable, Sendable, Equatable {
    /// Default weight bits (2 ... 8) before per-layer rules.
    public var weightBits: Int
    /// Default activation bits before per-layer rules.
    public var activationBits: Int
    /// Whether the first and last weighted layers were kept at 8 bits (the usual accuracy rule).
    public var firstLastEightBit: Bool
    /// Per-layer bit choices that differ from the defaults, with the reason; the applied bits of every
    /// layer are in `LayerReport.weightBits` / `activationBits`.
    public var bitOverrides: [BitOverride]
    /// Default weight scale granularity.
    public var weightGranularity: Granularity
    /// Calibration method name as given on the command line, e.g. `"minmax"`, `"percentile:99.99"`,
    /// `"mse"`, `"kl"`; `"none"` for a data-free run.
    public var calibrationMethod: String
    /// Integer rounding profile of requantization (`"gemmlowp"` or `"single"`, docs/numerics.md).
    public var roundingProfile: String
    /// Seed of every random choice (sample shuffling, held-out split).
    public var seed: UInt64
    /// True when no calibration data was used (ranges from weights and BatchNorm statistics only).
    public var dataFree: Bool
    /// The calibration file; `nil` when data-free.
    public var calibrationFile: String?
    /// Samples used for calibration (after any held-out split); `nil` when data-free.
    public var calibrationSamples: Int?
    /// Weight rounding rule, e.g. `"gptq below 8 bits, depthwise at every width"` or `"nearest"` (schema 1.1; absent in 1.0 files).
    public var weightRounding: String?
    /// Graph rewrites that change which numbers are quantized (constant channels moved into a bias,
    /// measured BatchNorm folds, ...), each applied or declined with the measured reason; absent when
    /// none was considered (schema 1.2 addition, optional).
    public var rewrites: [RewriteReport]?

    public init(weightBits: Int, activationBits: Int, firstLastEightBit: Bool, bitOverrides: [BitOverride],
                weightGranularity: Granularity, calibrationMethod: String, roundingProfile: String, seed: UInt64,
                dataFree: Bool, calibrationFile: String?, calibrationSamples: Int?, weightRounding: String? = nil,
                rewrites: [RewriteReport]? = nil) {
        self.rewrites = rewrites
        self.weightBits = weightBits
        self.activationBits = activationBits
        self.firstLastEightBit = firstLastEightBit
        self.bitOverrides = bitOverrides
        self.weightGranularity = weightGranularity
        self.calibrationMethod = calibrationMethod
        self.roundingProfile = roundingProfile
        self.seed = seed
        self.dataFree = dataFree
        self.calibrationFile = calibrationFile
        self.calibrationSamples = calibrationSamples
        self.weightRounding = weightRounding
    }
}

/// One graph rewrite considered by the conversion.
public struct RewriteReport: Codable, Sendable, Equatable {
    /// e.g. `"constant-input-channels"`, `"batchnorm-forward-fold"`.
    public var rewrite: String
    public var layer: String
    public var applied: Bool
    /// Why it was applied or declined, with the measured numbers.
    public var reason: String

    public init(rewrite: String, layer: String, applied: Bool, reason: String) {
        self.rewrite = rewrite; self.layer = layer; self.applied = applied; self.reason = reason
    }
}

/// One layer whose bits differ from the recipe's defaults.
public struct BitOverride: Codable, Sendable, Equatable {
    public var layer: String
    public var weightBits: Int?
    public var activationBits: Int?
    /// Why, e.g. `"first/last layer kept at 8 bits"` or `"--bits conv2=4"`.
    public var reason: String

    public init(layer: String, weightBits: Int?, activationBits: Int?, reason: String) {
        self.layer = layer
        self.weightBits = weightBits
        self.activationBits = activationBits
        self.reason = reason
    }
}

/// How many scales a weight tensor has.
public enum Granularity: String, Codable, Sendable, CaseIterable {
    /// One scale for the whole tensor.
    case perTensor
    /// One scale per output channel (per input channel for depthwise: one per filter).
    case perChannel
}
