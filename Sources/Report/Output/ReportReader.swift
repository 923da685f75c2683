import Foundation

/// Reads a fidelity report JSON document written by `ReportWriter.json(_:)` (any minor version of
/// a known major version; unknown fields are ignored).
public enum ReportReader {
    public static func read(_ data: Data) throws(ReportError) -> FidelityReport {
        struct VersionOnly: Decodable { let schemaVersion: String }
        let decoder = JSONDecoder()
        let version: String
        do {
            version = try decoder.decode(VersionOnly.self, from: data).schemaVersion
        } catch {
            throw .decodingFailed(String(describing: error))
        }
        let supportedMajor = majorVersion(FidelityReport.currentSchemaVersion)
        guard majorVersion(version) == supportedMajor else {
            throw .unsupportedSchemaVersion(found: version, supported: supportedMajor)
        }
        do {
            return try decoder.decode(FidelityReport.self, from: data)
        } catch {
            throw .decodingFailed(String(describing: error))
        }
    }

    private static func majorVersion(_ version: String) -> String {
        String(version.prefix { $0 != "." })
    }
}
