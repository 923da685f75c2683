/// The rounding profile a `.qbin` was converted and validated for (`docs/qbin-format.md`, section 3):
/// metadata key `rounding`, required since format 1.1. A 1.0 file has none; runtimes take it as
/// `gemmlowp`, TFLite's reference default.
extension QMetadataEntry {
    public static let rounding = "rounding"
}

extension QModel {
    /// The profiles a `rounding` value may name (`docs/numerics.md`, section 2).
    public static let roundingProfileNames = ["gemmlowp", "single"]
    /// What a file without the key (format 1.0) is run with.
    public static let defaultRoundingProfileName = "gemmlowp"

    /// The recorded `rounding` value, nil when there is none (a 1.0 file).
    public var recordedRounding: String? { metadataValue(QMetadataEntry.rounding) }

    /// A recorded `rounding` must name a known profile; `required` (files of format 1.1 and later,
    /// and everything the writer writes) also rejects a model without one.
    func validateRounding(required: Bool) throws(QBinError) {
        guard let name = recordedRounding else {
            if required {
                throw .invalidModel(reason: "metadata '\(QMetadataEntry.rounding)' is missing; format \(QBinFormat.versionMajor).1 and later record the rounding profile (\(Self.roundingProfileNames.joined(separator: " or ")))")
            }
            return
        }
        guard Self.roundingProfileNames.contains(name) else {
            throw .invalidModel(reason: "metadata '\(QMetadataEntry.rounding)' is '\(name)', not a rounding profile this reader knows (\(Self.roundingProfileNames.joined(separator: ", ")))")
        }
    }
}
