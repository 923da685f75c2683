import FixedPoint
import QBin

extension RoundingProfile {
    /// The profile recorded in `model`'s metadata (`rounding`, `docs/qbin-format.md` section 3); nil
    /// for a file without one (format 1.0), which runtimes run as `gemmlowp`. `QModel.validate()` has
    /// checked that a recorded name is one of the profiles.
    public static func recorded(in model: QModel) -> RoundingProfile? {
        model.recordedRounding.flatMap(RoundingProfile.init(rawValue:))
    }
}
