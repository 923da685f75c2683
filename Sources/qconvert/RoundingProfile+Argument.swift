import ArgumentParser
import FixedPoint

/// `--rounding gemmlowp|single`: a bad value is a usage error (exit 64) that lists both names.
extension RoundingProfile: ExpressibleByArgument {}
