/// Why a report could not be written or read.
public enum ReportError: Error, Equatable, CustomStringConvertible {
    /// JSONEncoder refused the report (should not happen: non-finite values are mapped to `null`).
    case encodingFailed(String)
    /// The data is not a fidelity report JSON document.
    case decodingFailed(String)
    /// The report's major schema version is not one this reader knows.
    case unsupportedSchemaVersion(found: String, supported: String)

    public var description: String {
        switch self {
        case .encodingFailed(let reason):
            return "cannot encode the fidelity report as JSON: \(reason)"
        case .decodingFailed(let reason):
            return "not a fidelity report JSON document: \(reason)"
        case .unsupportedSchemaVersion(let found, let supported):
            return "fidelity report schema \(found) is not readable by this qconvert (reads \(supported).x); use a newer qconvert"
        }
    }
}
