import Foundation

/// Quantization choices and measured error of one layer.
///
/// Errors compare the quantized model's dequantized output of this layer with the float model's
/// output of the same layer on the same evaluation samples, so `outputRelativeError` through the
/// layers is the error profile through depth.
public struct LayerReport: Codable, Sendable, Equatable {
    /// Position in execution order, from 0.
    public var index: Int
    /// Layer name in the source model (free text: escape before display).
    public var name: String
    /// Op name as in docs/qbin-format.md, e.g. `"conv2D"`, `"dense"`, `"add"`.
    public var op: String
    /// Bits of this layer's weights; `nil` for a layer without weights.
    public var weightBits: Int?
    /// Bits of this layer's output activation.
    public var activationBits: Int?
    /// Weight scale granularity; `nil` without weights.
    public var granularity: Granularity?
    /// Clipping range of the output activation; `nil` when the output reuses its input's range.
    public var clip: ClipRange?
    /// `sqnrDB(float weights, dequantized weights)` in dB; capped at `ReportMetrics.sqnrCapDB`.
    public var weightSQNR: Double?
    /// How the weights were rounded: `"gptq"` or `"nearest"`; nil without weights (schema 1.1).
    public var weightRounding: String?
    /// `sqnrDB(float output, dequantized quantized-model output)` of this layer in dB.
    public var activationSQNR: Double?
    /// `‖q − f‖₂ / ‖f‖₂` of this layer's output (dimensionless; 0.01 = 1 %).
    public var outputRelativeError: Double?
    /// Distribution of this layer's float output activations over the calibration samples.
    public var activationOutliers: OutlierStats?
    /// Distribution of this layer's float weights.
    public var weightOutliers: OutlierStats?
    /// Integer simulator vs quantized float emulation on this layer's integer output.
    public var simulatorVsEmulation: LSBHistogram?
    /// Worst-case accumulator magnitude vs int32.
    public var accumulator: AccumulatorCheck?

    public init(index: Int, name: String, op: String, weightBits: Int?, activationBits: Int?, granularity: Granularity?,
                clip: ClipRange?, weightSQNR: Double?, activationSQNR: Double?, outputRelativeError: Double?,
                activationOutliers: OutlierStats?, weightOutliers: OutlierStats?, simulatorVsEmulation: LSBHistogram?,
                accumulator: AccumulatorCheck?, weightRounding: String? = nil) {
        self.index = index
        self.name = name
        self.op = op
        self.weightBits = weightBits
        self.activationBits = activationBits
        self.granularity = granularity
        self.clip = clip
        self.weightSQNR = weightSQNR
        self.weightRounding = weightRounding
        self.activationSQNR = activationSQNR
        self.outputRelativeError = outputRelativeError
        self.activationOutliers = activationOutliers
        self.weightOutliers = weightOutliers
        self.simulatorVsEmulation = simulatorVsEmulation
        self.accumulator = accumulator
    }
}

/// The real-valued range `[low, high]` an activation is clipped to, and the method that chose it.
public struct ClipRange: Codable, Sendable, Equatable {
    public var low: Double
    public var high: Double
    /// Calibration method that chose this range, e.g. `"minmax"`, `"percentile:99.99"`, `"relu6"`.
    public var method: String

    public init(low: Double, high: Double, method: String) {
        self.low = low
        self.high = high
        self.method = method
    }
}

/// Summary of a value distribution, for spotting outliers that force a wide range.
public struct OutlierStats: Codable, Sendable, Equatable {
    public var min: Double
    public var max: Double
    /// 99.9th percentile of `|x|` (linear interpolation, `ReportMetrics.percentile`).
    public var absP999: Double
    /// `m4 / m2² − 3` (0 for a normal distribution; large values mean heavy tails).
    public var excessKurtosis: Double
    /// Values the statistics cover.
    public var count: Int

    public init(min: Double, max: Double, absP999: Double, excessKurtosis: Double, count: Int) {
        self.min = min
        self.max = max
        self.absP999 = absP999
        self.excessKurtosis = excessKurtosis
        self.count = count
    }
}

/// Whether a layer's int32 accumulator can overflow.
///
/// `boundAbs = K · max|q_w| · max|q_x − z_x| + max|bias|` with `K` the number of products per output
/// (e.g. `kh · kw · cin` for conv2D): the largest `|acc|` any input could produce.
public struct AccumulatorCheck: Codable, Sendable, Equatable {
    /// Worst-case `|acc|` for any input.
    public var boundAbs: Int64
    /// The accumulator's limit, `Int32.max` unless the format says otherwise.
    public var limit: Int64
    /// `.ok` when `boundAbs <= limit`; `.fallback` when the layer runs a wider (split or int64) path.
    public var status: AccumulatorStatus

    public init(boundAbs: Int64, limit: Int64 = Int64(Int32.max), status: AccumulatorStatus) {
        self.boundAbs = boundAbs
        self.limit = limit
        self.status = status
    }

    /// `log2(limit / boundAbs)`: bits to spare (negative: the bound exceeds the limit).
    public var headroomBits: Double? {
        guard boundAbs > 0, limit > 0 else { return nil }
        return log2(Double(limit) / Double(boundAbs))
    }
}

/// Outcome of the accumulator-bound check.
public enum AccumulatorStatus: String, Codable, Sendable, CaseIterable {
    case ok
    case fallback
}
