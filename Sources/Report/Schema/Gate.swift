/// One pass/fail threshold of `qconvert validate`.
public struct Gate: Codable, Sendable, Equatable {
    /// Metric name, e.g. `"top1Agreement"`, `"accuracyDrop"`, `"outputSQNR"`.
    public var name: String
    /// Which side of the threshold passes.
    public var comparison: GateComparison
    public var threshold: Double
    /// The measured value; `nil` when it could not be measured (the gate then fails).
    public var measured: Double?
    public var passed: Bool
    /// Unit for display, e.g. `"%"`, `"dB"`, `"pp"`; empty for fractions.
    public var unit: String

    public init(name: String, comparison: GateComparison, threshold: Double, measured: Double?, passed: Bool, unit: String) {
        self.name = name
        self.comparison = comparison
        self.threshold = threshold
        self.measured = measured
        self.passed = passed
        self.unit = unit
    }

    /// A gate whose `passed` is derived from `measured` and `threshold` (`nil` fails).
    public static func evaluated(name: String, comparison: GateComparison, threshold: Double, measured: Double?,
                                 unit: String = "") -> Gate {
        Gate(name: name, comparison: comparison, threshold: threshold, measured: measured,
             passed: measured.map { comparison.passes($0, threshold) } ?? false, unit: unit)
    }
}

/// How a measured value is compared to a gate's threshold.
public enum GateComparison: String, Codable, Sendable, CaseIterable {
    /// Passes when `measured >= threshold` (agreement, SQNR, accuracy).
    case atLeast
    /// Passes when `measured <= threshold` (accuracy drop, KL, error).
    case atMost

    public func passes(_ measured: Double, _ threshold: Double) -> Bool {
        switch self {
        case .atLeast: return measured >= threshold
        case .atMost: return measured <= threshold
        }
    }

    /// `≥` or `≤`, for display.
    public var symbol: String { self == .atLeast ? "≥" : "≤" }
}
