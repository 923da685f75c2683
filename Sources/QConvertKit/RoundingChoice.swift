import FixedPoint
import QBin
import Simulator

/// Which rounding profile `run` and `validate` use for a `.qbin`: the one the file records (metadata
/// `rounding`), unless `--rounding` overrides it; `gemmlowp` for a 1.0 file that records none.
public struct RoundingChoice: Sendable, Equatable {
    public var profile: RoundingProfile
    /// A line for the terminal when the profile is not simply the recorded one; nil otherwise.
    public var note: String?

    public static func resolve(model: QModel, override: RoundingProfile?) -> RoundingChoice {
        let recorded = RoundingProfile.recorded(in: model)
        switch (recorded, override) {
        case (let r?, nil):
            return RoundingChoice(profile: r, note: nil)
        case (let r?, let o?) where o == r:
            return RoundingChoice(profile: r, note: nil)
        case (let r?, let o?):
            return RoundingChoice(profile: o, note: "rounding: --rounding \(o.rawValue) overrides the file's recorded profile \(r.rawValue); outputs may differ by 1 LSB from what the file was validated with")
        case (nil, let o?):
            return RoundingChoice(profile: o, note: "rounding: \(o.rawValue) from --rounding (the file records no profile: format 1.0)")
        case (nil, nil):
            return RoundingChoice(profile: .gemmlowp, note: "rounding: the file records no profile (format 1.0); running gemmlowp, the reference default")
        }
    }
}
