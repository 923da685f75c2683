/// How a tensor's clipping range is chosen from its calibration statistics (docs/calibration.md).
public enum ClipMethod: Sendable, Equatable, Hashable {
    /// `[min(min, 0), max(max, 0)]`: nothing is clipped.
    case minmax
    /// The `p`-th percentile on top (and the `(100 - p)`-th below for signed tensors).
    case percentile(Double)
    /// Grid search over a shrink factor of the min-max range minimising the estimated quantization MSE.
    case mse
    /// TensorRT-style entropy calibration: the threshold minimising KL(P || Q) on the |x| histogram.
    case kl
    /// Banner et al. 2019 analytic clipping for a Laplace or Gaussian fit.
    case aciq
    /// Evaluates minmax, percentile(99.99), mse, kl and aciq and keeps the least estimated MSE.
    case auto

    /// The percentile `auto` evaluates and the CLI default.
    public static let defaultPercentile = 99.99

    /// The candidates of `auto`, in tie-breaking order (the first of equal estimated MSEs wins).
    public static let autoCandidates: [ClipMethod] = [.minmax, .percentile(defaultPercentile), .mse, .kl, .aciq]

    /// "minmax", "percentile:99.99", "mse", "kl", "aciq", "auto".
    public var name: String {
        switch self {
        case .minmax: return "minmax"
        case .percentile(let p): return "percentile:\(p)"
        case .mse: return "mse"
        case .kl: return "kl"
        case .aciq: return "aciq"
        case .auto: return "auto"
        }
    }

    /// Parses the CLI spelling ("minmax" | "percentile" | "mse" | "kl" | "aciq" | "auto"); nil if unknown.
    /// `percentile` is the value `percentile` takes (the CLI's `--percentile`).
    public static func parse(_ text: String, percentile: Double) -> ClipMethod? {
        switch text.lowercased() {
        case "minmax": return .minmax
        case "percentile": return .percentile(percentile)
        case "mse": return .mse
        case "kl": return .kl
        case "aciq": return .aciq
        case "auto": return .auto
        default: return nil
        }
    }

    /// Every CLI spelling `parse` accepts.
    public static let allNames: [String] = ["minmax", "percentile", "mse", "kl", "aciq", "auto"]
}
