/// TV smoothing insertion (docs/tv-smoothing.md) as reported: the mode, and per insertion point the
/// gamma chosen and the outlier statistics of the map before and after smoothing.
public struct TVSmoothingReport: Codable, Sendable, Equatable {
    /// `"auto"` or the relative gamma given to `--tv-smoothing`.
    public var mode: String
    public var steps: Int
    /// `auto` only: output MSE against the float model on its scoring samples, without TV and with the chosen plan.
    public var autoScoreOff: Double?
    public var autoScoreChosen: Double?
    public var points: [TVSmoothingPoint]

    public init(mode: String, steps: Int, autoScoreOff: Double?, autoScoreChosen: Double?, points: [TVSmoothingPoint]) {
        self.mode = mode; self.steps = steps; self.autoScoreOff = autoScoreOff; self.autoScoreChosen = autoScoreChosen; self.points = points
    }
}

/// One insertion point: the activation a convolution reads.
public struct TVSmoothingPoint: Codable, Sendable, Equatable {
    /// The layer whose output is smoothed.
    public var layer: String
    /// Gamma relative to `before.absP999`, and absolute (value units); nil when nothing was inserted.
    public var relativeGamma: Double?
    public var gamma: Double?
    public var before: TVMapStatistics
    /// nil when nothing was inserted.
    public var after: TVMapStatistics?
    /// The value distributions before and after on one common axis (schema 1.4; the HTML's histogram pair).
    public var histogram: TVHistogramPair?

    public init(layer: String, relativeGamma: Double?, gamma: Double?, before: TVMapStatistics, after: TVMapStatistics?,
                histogram: TVHistogramPair? = nil) {
        self.layer = layer; self.relativeGamma = relativeGamma; self.gamma = gamma; self.before = before; self.after = after
        self.histogram = histogram
    }
}

/// Calibration statistics of one map.
public struct TVMapStatistics: Codable, Sendable, Equatable {
    public var min: Double
    public var max: Double
    /// 99.9th percentile of |x|.
    public var absP999: Double
    public var excessKurtosis: Double
    /// Share of values (0...1) outside the clip range the calibration method picks at `clipBits`.
    public var clippedShare: Double
    public var clipBits: Int

    public init(min: Double, max: Double, absP999: Double, excessKurtosis: Double, clippedShare: Double, clipBits: Int) {
        self.min = min; self.max = max; self.absP999 = absP999; self.excessKurtosis = excessKurtosis
        self.clippedShare = clippedShare; self.clipBits = clipBits
    }
}

/// Histograms of one insertion point's map before and after smoothing, over the same bins.
public struct TVHistogramPair: Codable, Sendable, Equatable {
    /// The common axis: `before.count` equal bins over `[low, high]` (the union of both ranges).
    public var low: Double
    public var high: Double
    /// Share of the calibration values (0...1) in each bin.
    public var before: [Double]
    /// nil when nothing was inserted.
    public var after: [Double]?

    public init(low: Double, high: Double, before: [Double], after: [Double]?) {
        self.low = low; self.high = high; self.before = before; self.after = after
    }
}
