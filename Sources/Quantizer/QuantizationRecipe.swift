import Calibration

/// How weights are scaled: one scale per output channel (default) or one per tensor.
public enum WeightGranularity: String, Sendable, CaseIterable {
    case perChannel = "per-channel"
    case perTensor = "per-tensor"
}

/// Everything the user chooses about a conversion (the CLI's options, validated).
///
/// Bits of a weighted layer: `layerBits[name]`, else `firstLastBits` for the first and last weighted
/// layers (when set), else `weightBits` / `activationBits`. A layer's bits apply to its weights and its
/// output activation; ops that pass values through (pools, reshapes, padding) keep their input's type.
public struct QuantizationRecipe: Sendable, Equatable {
    public var weightBits: Int = 8
    public var activationBits: Int = 8
    /// Bits of the first and last weighted layers (their weights, outputs, and the graph input); nil = same as the rest.
    public var firstLastBits: Int? = 8
    /// Per-layer overrides, by source layer name.
    public var layerBits: [String: Int] = [:]
    public var calibrationMethod: ClipMethod = .auto
    public var granularity: WeightGranularity = .perChannel
    /// Search the weight clip per channel by MSE at widths below this many bits (max-abs at or above).
    public var weightMSEClipBelowBits: Int = 8
    /// Empirical bias correction (Nagel et al. 2019) from the calibration data's per-channel input means.
    public var biasCorrection: Bool = true
    /// Round weights by GPTQ where the calibration data's input covariances are given
    /// (`Quantizer.inputCovariances`) and the layer has fewer than this many weight bits; nil = never.
    public var gptqBelowBits: Int? = 8
    /// With `gptqBelowBits` set, also GPTQ-round depthwise layers at any width: a depthwise row is one
    /// input channel's 3x3 window, nine correlated taps whose rounding errors do not average out (W8A8
    /// dwsep_relu6: output SQNR 31.2 -> 32.4 dB).
    public var gptqDepthwiseAtAnyWidth = true

    /// Whether a layer with `bits`-wide weights (a depthwise one when `depthwise`) is GPTQ-rounded, given input covariances.
    public func usesGPTQ(depthwise: Bool, bits: Int) -> Bool {
        guard let below = gptqBelowBits else { return false }
        return bits < below || (depthwise && gptqDepthwiseAtAnyWidth)
    }

    /// The weight rounding rule in words, for the metadata and the report.
    public var weightRoundingRule: String {
        guard let below = gptqBelowBits else { return "nearest" }
        return "gptq below \(below) bits" + (gptqDepthwiseAtAnyWidth ? ", depthwise at every width" : "")
    }
    /// Write the model's output as int32 when a weighted layer produces it directly (logits, before an
    /// edge softmax): 8-bit logits flip the top-1 class of near-ties for no gain in size.
    public var wideOutput: Bool = true
    /// Least bits of a tensor read by a lookup-table activation (with the first/last rule on): a table
    /// of 2^4 entries cannot place a nonlinearity (or a threshold) finely enough; nil = no rule.
    public var lookupTableInputBits: Int? = 8
    /// Least bits of a lookup-table activation's output (with the first/last rule on): the table maps
    /// each input code to any output code, so a narrower output grid saves no table bytes and no
    /// arithmetic, only the reader's input width, and 2^4 levels re-round a nonlinearity (or a
    /// threshold) that the 8-bit input just resolved (W4A4 ops_zoo: `relu_thresh` at 12 dB); nil = no rule.
    /// With calibration data the conversion measures it and drops it where it costs (`ConvertJob`).
    public var lookupTableOutputBits: Int? = 8
    /// Input channels that calibration saw constant (dead after a ReLU, zero variance) move into the
    /// next weighted layer's bias and out of its weight ranges (`RewriteRecord` "constant-input-channels").
    /// Off for data-free conversions: a channel constant on synthetic inputs need not be on real ones.
    public var constantChannelsToBias = true

    public init() {}

    /// The options as `(name, value)` pairs for the file's metadata, in a fixed order.
    public var metadataOptions: [(String, String)] {
        [("weight_bits", "\(weightBits)"), ("activation_bits", "\(activationBits)"),
         ("first_last_bits", firstLastBits.map(String.init) ?? "same"),
         ("layer_bits", layerBits.keys.sorted().map { "\($0)=\(layerBits[$0]!)" }.joined(separator: ",")),
         ("calibration_method", calibrationMethod.name), ("weight_granularity", granularity.rawValue),
         ("bias_correction", biasCorrection ? "on" : "off"),
         ("weight_rounding", weightRoundingRule), ("output_bits", wideOutput ? "32" : "same"),
         ("lookup_table_input_bits", lookupTableInputBits.map(String.init) ?? "same"),
         ("lookup_table_output_bits", lookupTableOutputBits.map(String.init) ?? "same"),
         ("constant_channels_to_bias", constantChannelsToBias ? "on" : "off")]
    }
}
