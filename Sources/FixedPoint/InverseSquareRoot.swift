/// `1 / sqrt(n)` of an integer `n` in `1 ..< 2^62`, in fixed point with integer operations only
/// (docs/numerics.md, "TV smoothing"): the result `(significand, exponent)` means
///
///     1 / sqrt(n) ~= significand * 2^-(30 + exponent),    significand in (2^29, 2^31]
///
/// 1. `b` = bit length of `n`, `exponent = (b + 1) / 2`, so `y = n / 4^exponent` lies in `[1/4, 1)`;
///    `Y = floor(y * 2^30)` (a left or right shift of `n`; the right shift drops bits below 2^-30).
/// 2. Start on the chord of `1/sqrt(y)` over `[1/4, 1]`, from above: `R0 = 7/3 - (4/3) y` in Q30
///    (`2505397589 - floor(Y * 1431655765 / 2^30)`).
/// 3. `inverseSquareRootNewtonSteps` Newton steps `R <- R (3 - y R^2) / 2`, every product floored to Q30:
///    `t = floor(R * R / 2^30)`, `t = floor(Y * t / 2^30)`, `R = floor(R * (3 * 2^30 - t) / 2^31)`.
///    From above the first step lands below `1/sqrt(y)`; the others climb towards it quadratically.
///
/// Every intermediate fits in Int64 (`R <= 2^31.23`, `t < 2^32.6`). Relative error below `2^-27` over the
/// whole domain (measured in FixedPointTests: largest seen ~ 3 * 2^-30); the result is never above the
/// exact value by more than one step of `2^-30 * 2^-exponent`.
@inlinable
public func fixedPointInverseSquareRoot(_ n: Int64) -> (significand: Int64, exponent: Int) {
    precondition(n >= 1 && n < (Int64(1) << 62), "fixedPointInverseSquareRoot: \(n) outside 1 ..< 2^62")
    let bitLength = 64 - n.leadingZeroBitCount
    let exponent = (bitLength + 1) / 2
    let y: Int64 = 2 * exponent >= 30 ? floorDivideByPowerOfTwo(n, 2 * exponent - 30) : n << (30 - 2 * exponent)
    var r = 2_505_397_589 - floorDivideByPowerOfTwo(y &* 1_431_655_765, 30)
    for _ in 0..<inverseSquareRootNewtonSteps {
        var t = floorDivideByPowerOfTwo(r &* r, 30)
        t = floorDivideByPowerOfTwo(y &* t, 30)
        r = floorDivideByPowerOfTwo(r &* (3 << 30 &- t), 31)
    }
    return (r, exponent)
}

/// Newton steps of `fixedPointInverseSquareRoot` (part of the `.qbin` semantics of `tvSmoothing`: never change).
public let inverseSquareRootNewtonSteps = 5
