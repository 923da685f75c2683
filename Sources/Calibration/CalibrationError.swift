/// Errors of calibration: bad arguments, with the values that were given.
public enum CalibrationError: Error, Equatable, CustomStringConvertible {
    /// `collect` was asked for no samples or a batch size below 1.
    case invalidRequest(sampleCount: Int, batchSize: Int)

    public var description: String {
        switch self {
        case .invalidRequest(let samples, let batch):
            return "calibration needs at least one sample and a batch size of at least 1 (got \(samples) samples, batch \(batch))"
        }
    }
}
