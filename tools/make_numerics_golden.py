#!/usr/bin/env python3
"""Golden vectors for qconvert's FixedPoint module, computed independently in Python integers.

Writes fixtures/numerics/golden.json with
  * quantize_multiplier: real -> (multiplier, shift) as TFLite's QuantizeMultiplier derives it, for the
    gemmlowp build and the TFLITE_SINGLE_ROUNDING build (which caps shift > 30);
  * srdhm, rdbpot: gemmlowp's SaturatingRoundingDoublingHighMul and RoundingDivideByPOT;
  * multiply: MultiplyByQuantizedMultiplier(x, m, shift) under both profiles;
  * disagreement: how often the profiles (and an XNNPACK-style float requantisation) disagree on
    random inputs, the numbers quoted in docs/numerics.md.

Nothing here shares code with the Swift implementation: the multiplier derivation uses exact
rationals (float.as_integer_ratio) instead of frexp, RoundingDivideByPOT uses sign/magnitude instead
of a mask, SaturatingRoundingDoublingHighMul follows gemmlowp's C form with truncating division.
Plain python3, no packages. Deterministic: re-running writes the same file.

    python3 tools/make_numerics_golden.py            # writes fixtures/numerics/golden.json
    python3 tools/make_numerics_golden.py --stats    # also prints the disagreement table
"""
import json
import os
import random
import struct
import sys

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def wrap32(v):
    """Two's-complement truncation to int32 (what compiled C does on overflow)."""
    v &= (1 << 32) - 1
    return v - (1 << 32) if v >= (1 << 31) else v


def c_div(a, b):
    """C integer division: truncates toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def round_ratio_half_away(num, den):
    """round(num / den), ties away from zero, den > 0, exact."""
    q, r = divmod(abs(num), den)
    if 2 * r >= den:
        q += 1
    return q if num >= 0 else -q


# ---------------------------------------------------------------- QuantizeMultiplier

def quantize_multiplier(real, single_rounding):
    """TFLite QuantizeMultiplier via exact rationals: real = n/d, find e with 2^(e-1) <= real < 2^e."""
    if real == 0.0:
        return 0, 0
    n, d = real.as_integer_ratio()          # d is a power of two
    e = n.bit_length() - d.bit_length()     # 2^(e-1) <= n/d < 2^(e+1)
    if n * (1 << max(0, -e)) >= d * (1 << max(0, e)):  # n/d >= 2^e
        e += 1
    # multiplier = round(real * 2^(31 - e)), ties away
    k = 31 - e
    num, den = (n << k, d) if k >= 0 else (n, d << -k)
    m = round_ratio_half_away(num, den)
    assert (1 << 30) <= m <= (1 << 31), (real, m)
    if m == 1 << 31:
        m //= 2
        e += 1
    if e < -31:
        return 0, 0
    if single_rounding and e > 30:
        return INT32_MAX, 30
    return m, e


# ---------------------------------------------------------------- gemmlowp primitives

def srdhm(a, b):
    """SaturatingRoundingDoublingHighMul, written as gemmlowp's C (nudge + truncating division)."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    return c_div(ab + nudge, 1 << 31)


def rdbpot(x, exponent):
    """RoundingDivideByPOT: x / 2^exponent, ties away from zero, by sign and magnitude."""
    assert 0 <= exponent <= 31
    if exponent == 0:
        return x
    mag = (abs(x) + (1 << (exponent - 1))) >> exponent
    return mag if x >= 0 else -mag


def multiply_gemmlowp(x, m, shift):
    left, right = max(shift, 0), max(-shift, 0)
    return rdbpot(srdhm(wrap32(x * (1 << left)), m), right)


def multiply_single(x, m, shift):
    assert -31 <= shift <= 30
    total = 31 - shift
    # floor((x*m + 2^(total-1)) / 2^total): Python's >> floors, as C's >> on int64 does.
    return wrap32((x * m + (1 << (total - 1))) >> total)


def single_overflows(x, m, shift):
    total = 31 - shift
    v = (x * m + (1 << (total - 1))) >> total
    return not (INT32_MIN <= v <= INT32_MAX)


def gemmlowp_left_overflows(x, shift):
    return shift > 0 and not (INT32_MIN <= x * (1 << shift) <= INT32_MAX)


# ---------------------------------------------------------------- XNNPACK-style float requantisation

def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def requantize_fp32(acc, scale32, zero_point, qmin, qmax):
    """XNNPACK fp32 requantisation: float(acc) * scale in float32, clamp, round half to even, + zp.
    Both operands are float32, so their exact product fits a double and f32() rounds it once."""
    v = f32(f32(float(acc)) * scale32)
    v = min(max(v, float(qmin - zero_point)), float(qmax - zero_point))
    return int(round(v)) + zero_point        # Python's round() is half-to-even


# ---------------------------------------------------------------- cases

REALS = [
    0.0, 0.5, 1.0, 2.0, 0.25, 0.75, 1.5, 0.1, 0.3, 1.0 / 3.0, 2.0 / 3.0, 0.9999999999, 0.99999999999999989,
    1e-10, 2.0 ** -31, 2.0 ** -32, 2.0 ** -33, 2.0 ** -31 * 0.75, 2.0 ** -32 * 0.99999999999, 1e-9, 3e-10,
    2.0 ** 29, 2.0 ** 30, 2.0 ** 30 * 1.5, 2.0 ** 31, 1e10, 12345.678, 5e-324, 2.2250738585072014e-308,
    0.0039215686274509803, 0.0078125, 0.00390625 * 0.999, 0.003 * 0.02 / 0.05, 0.0123, 0.000123456,
    # q * 2^31 exactly halfway between integers (ties away from zero go up)
    (2 ** 30 + 0.5) / 2 ** 31, (2 ** 31 - 1.5) / 2 ** 31, (2 ** 31 - 0.5) / 2 ** 31, (3 * 2 ** 29 + 0.5) / 2 ** 31,
    # just below 1 so rounding reaches 2^31 and renormalises; just above
    1.0 - 2.0 ** -33, 1.0 - 2.0 ** -32, 1.0 - 2.0 ** -31, 1.0 + 2.0 ** -52, 0.5 - 2.0 ** -34,
]


def quantize_multiplier_rows(rng):
    reals = list(REALS)
    for _ in range(40):
        reals.append(rng.uniform(0.5, 1.0) * 2.0 ** rng.randint(-40, 34))
    rows = []
    for r in reals:
        g = quantize_multiplier(r, False)
        s = quantize_multiplier(r, True)
        rows.append({"real": r.hex(), "decimal": repr(r), "gemmlowp": list(g), "single": list(s)})
    return rows


EDGE_X = [0, 1, -1, 2, -2, 3, -3, 127, -128, 1000, -1000, 65535, -65536, 2 ** 20 + 1, -(2 ** 20) - 1,
          2 ** 30, -(2 ** 30), 2 ** 30 - 1, INT32_MAX, INT32_MIN, INT32_MIN + 1, INT32_MAX - 1]
EDGE_M = [0, 1, 2 ** 30, 2 ** 30 + 1, 3 * 2 ** 29, 1518500250, 2 ** 31 - 2, INT32_MAX]
EDGE_SHIFTS = [-31, -30, -16, -8, -2, -1, 0, 1, 2, 8, 30]


def tie_cases():
    """x, m, shift where x * m / 2^(31 - shift) lands exactly on .5 (and neighbours), both signs."""
    out = []
    # m = 2^30 is 0.5 in Q0.31: x * 0.5 * 2^shift; odd x at shift 0 is an exact .5 after SRDHM.
    for shift in (0, -1, -2, -3, -5, -10, -20, -30, -31):
        for base in (1, 3, 5, 7, 11, 101, 2 ** 20 + 1):
            for sign in (1, -1):
                # x such that x * 2^30 / 2^(31 - shift) = x / 2^(1 - shift) has fraction exactly .5
                # when x = (2k + 1) * 2^(-shift); clamp into int32.
                x = sign * base * (1 << -shift)
                if INT32_MIN <= x <= INT32_MAX:
                    out.append((x, 2 ** 30, shift, "tie"))
                    for dx in (-1, 1):
                        if INT32_MIN <= x + dx <= INT32_MAX:
                            out.append((x + dx, 2 ** 30, shift, "near tie"))
    # SRDHM stage tie with an odd multiplier: a * b = (2k + 1) * 2^30.
    for x in (2 ** 30, -(2 ** 30), 3 * 2 ** 29, -(3 * 2 ** 29)):
        for m in (1, 3, 5, 2 ** 30 + 1):
            for shift in (0, -1, -4):
                out.append((x, m, shift, "srdhm tie"))
    # double rounding: SRDHM rounds up onto a tie of the second rounding (gemmlowp and single differ).
    # x * m / 2^31 = 0.6 rounds to 1 in SRDHM, then 1 / 2 is a tie rounded away from zero to 1, while
    # the single rounding of 0.3 gives 0.
    for x in (1, -1, 3, -3, 5, -5, 7, -7):
        for m in (1288490189, 1503238554, 1932735283):  # 0.6, 0.7, 0.9 in Q0.31
            for shift in (-1, -2, -3):
                out.append((x, m, shift, "double rounding"))
    return out


def multiply_rows(rng):
    cases = []
    for x in EDGE_X:
        for m in EDGE_M:
            for shift in EDGE_SHIFTS:
                cases.append((x, m, shift, "edge"))
    cases = rng.sample(cases, 260)  # a spread of the edge grid, not all 1,936 rows
    cases += tie_cases()
    for _ in range(160):
        shift = rng.randint(-31, 30)
        m = rng.randint(2 ** 30, INT32_MAX)
        x = rng.randint(INT32_MIN, INT32_MAX) >> rng.randint(0, 31)
        cases.append((x, m, shift, "random"))
    rows = []
    for x, m, shift, kind in cases:
        row = {"x": x, "m": m, "shift": shift,
               "gemmlowp": multiply_gemmlowp(x, m, shift), "single": multiply_single(x, m, shift), "kind": kind}
        if gemmlowp_left_overflows(x, shift) or single_overflows(x, m, shift):
            row["wraps"] = True
        rows.append(row)
    return rows


def srdhm_rows(rng):
    vals = [0, 1, -1, 2 ** 30, -(2 ** 30), INT32_MAX, INT32_MIN, INT32_MIN + 1, 3, -3, 46341, -46341]
    rows = [{"a": a, "b": b, "out": srdhm(a, b)} for a in vals for b in vals]
    for _ in range(60):
        a, b = rng.randint(INT32_MIN, INT32_MAX), rng.randint(INT32_MIN, INT32_MAX)
        rows.append({"a": a, "b": b, "out": srdhm(a, b)})
    return rows


def rdbpot_rows(rng):
    rows = []
    for e in (0, 1, 2, 3, 8, 16, 30, 31):
        for x in (0, 1, -1, 2, -2, 3, -3, 5, -5, 6, -6, 7, -7, INT32_MAX, INT32_MIN, INT32_MIN + 1):
            rows.append({"x": x, "exponent": e, "out": rdbpot(x, e)})
        if e > 0:
            half = 1 << (e - 1)
            for x in (half, -half, 3 * half, -3 * half, half - 1, -half + 1, half + 1, -half - 1):
                if INT32_MIN <= x <= INT32_MAX:
                    rows.append({"x": x, "exponent": e, "out": rdbpot(x, e)})
    for _ in range(40):
        x, e = rng.randint(INT32_MIN, INT32_MAX), rng.randint(0, 31)
        rows.append({"x": x, "exponent": e, "out": rdbpot(x, e)})
    return rows


# ---------------------------------------------------------------- disagreement statistics

def disagreement(rng, samples=200_000):
    """Typical int8 conv requantisation: M log-uniform in [2^-14, 2^-4], accumulators spread so the
    output covers about +-1.25x the int8 range, zero point in [-20, 20], clamp to [-128, 127]."""
    pairs = {"gemmlowp_vs_single": 0, "gemmlowp_vs_fp32": 0, "single_vs_fp32": 0}
    raw_differ = 0
    max_diff = 0
    for _ in range(samples):
        real = 2.0 ** rng.uniform(-14, -4)
        m, shift = quantize_multiplier(real, False)
        limit = int(160 / real)
        x = rng.randint(-limit, limit)
        zp = rng.randint(-20, 20)
        g, s = multiply_gemmlowp(x, m, shift), multiply_single(x, m, shift)
        raw_differ += g != s
        go, so = min(max(g + zp, -128), 127), min(max(s + zp, -128), 127)
        fo = requantize_fp32(x, f32(real), zp, -128, 127)
        pairs["gemmlowp_vs_single"] += go != so
        pairs["gemmlowp_vs_fp32"] += go != fo
        pairs["single_vs_fp32"] += so != fo
        max_diff = max(max_diff, abs(go - so), abs(go - fo), abs(so - fo))
    # Worst case for double rounding: small right shifts, full-range multipliers and inputs.
    small_shift_differ = 0
    for _ in range(samples):
        shift = rng.randint(-4, -1)
        m = rng.randint(2 ** 30, INT32_MAX)
        x = rng.randint(-(2 ** 24), 2 ** 24)
        small_shift_differ += multiply_gemmlowp(x, m, shift) != multiply_single(x, m, shift)
    # Power-of-two multipliers (M = 2^-k, k in 1..8) make exact ties common: every rule differs there.
    pow2 = {"gemmlowp_vs_single": 0, "gemmlowp_vs_fp32": 0, "single_vs_fp32": 0}
    for _ in range(samples):
        real = 2.0 ** -rng.randint(1, 8)
        m, shift = quantize_multiplier(real, False)
        x = rng.randint(-int(128 / real), int(128 / real))
        g = min(max(multiply_gemmlowp(x, m, shift), -128), 127)
        s = min(max(multiply_single(x, m, shift), -128), 127)
        f = requantize_fp32(x, f32(real), 0, -128, 127)
        pow2["gemmlowp_vs_single"] += g != s
        pow2["gemmlowp_vs_fp32"] += g != f
        pow2["single_vs_fp32"] += s != f
    return {
        "samples": samples,
        "int8_output_differs_power_of_two_multiplier": {k: v / samples for k, v in pow2.items()},
        "int8_output_differs": {k: v / samples for k, v in pairs.items()},
        "int32_result_differs_gemmlowp_vs_single": raw_differ / samples,
        "int32_result_differs_gemmlowp_vs_single_shift_-4_to_-1": small_shift_differ / samples,
        "max_abs_difference_lsb": max_diff,
    }


def main():
    rng = random.Random(20240611)
    golden = {
        "format": 1,
        "generator": "tools/make_numerics_golden.py",
        "notes": "reals are float.hex() strings (decimal is for reading only); 'wraps' marks rows where "
                 "TFLite's int32 left shift (gemmlowp) or int64->int32 result (single) overflows and wraps",
        "quantize_multiplier": quantize_multiplier_rows(rng),
        "srdhm": srdhm_rows(rng),
        "rdbpot": rdbpot_rows(rng),
        "multiply": multiply_rows(rng),
        "disagreement": disagreement(random.Random(7)),
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(root, "fixtures", "numerics", "golden.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")
    counts = {k: len(v) for k, v in golden.items() if isinstance(v, list)}
    print(f"wrote {path}: {counts}")
    if "--stats" in sys.argv:
        print(json.dumps(golden["disagreement"], indent=2))


if __name__ == "__main__":
    main()
