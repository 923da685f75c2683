// The AVX-512 F/BW/VL level of the integer kernels (Skylake-SP and later, Zen 4): the AVX2 level's
// instructions at twice the width, with opmask registers for channel tails, so a row of 8...15
// channels needs no scalar loop. Compiled by a per-function target attribute, called only when cpuid
// reports AVX-512 F/BW/VL and the OS saves the opmask and ZMM state. The avx512vnni level uses these
// kernels for everything but its own GEMM micro-kernels and probe (isa.c).
// Contracts in include/CKernels.h; every function is tested against the scalar level lane for lane
// (SimulatorTests.ISALevelTests).
//
// Exactness: the same instructions as int8_avx2.c, 16 lanes wide, so the same arguments hold:
//   `vpmaddwd` (s16 path): an int16 pair sum is at most 2 * 255 * 128 = 65280, exact.
//   `vpmaddubsw` (u8 path): int16 pair sums with saturation, exact while |w| <= 64; the `_i16` variant
//     is exact while chunk * 2 * 255 * max|w| <= 32767 (the caller derives chunk from the panel).
//   Requantization: `vpmuldq` gives the exact 64-bit product of two int32 lanes; `vpsravq` is the
//     arithmetic 64-bit shift AVX2 lacks. Masked lanes of a tail compute on zeros and are not stored.
//   int32 accumulation (`vpaddd`) and `vpmulld` wrap, as the scalar level's uint32 arithmetic does.
#include "kernels_internal.h"

#if QC_X86
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))), apply_to = function)

#include "int8_avx512_tile.h"

/// One ZMM holds a whole K pair of the 16-channel panel (channel n's pair in dword n).
void qc_gemm_s16_4x16_avx512(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs,
        int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m512i c0, c1, c2, c3;
    qc_load_c16(c, ldc, accumulate, &c0, &c1, &c2, &c3);
    const int16_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    for (ptrdiff_t p = 0; p < kpairs; p++) {
        __m512i w = _mm512_loadu_si512(b + 32 * p);
        c0 = _mm512_add_epi32(c0, _mm512_madd_epi16(_mm512_set1_epi32(qc_load_i32(a0 + 2 * p)), w));
        c1 = _mm512_add_epi32(c1, _mm512_madd_epi16(_mm512_set1_epi32(qc_load_i32(a1 + 2 * p)), w));
        c2 = _mm512_add_epi32(c2, _mm512_madd_epi16(_mm512_set1_epi32(qc_load_i32(a2 + 2 * p)), w));
        c3 = _mm512_add_epi32(c3, _mm512_madd_epi16(_mm512_set1_epi32(qc_load_i32(a3 + 2 * p)), w));
    }
    qc_store_c16(c, ldc, c0, c1, c2, c3);
}

void qc_gemm_u8s8_4x16_avx512(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads,
        int32_t *c, ptrdiff_t ldc, int accumulate) {
    // The indirect kernel with one tap: the four rows are lda apart.
    const uint8_t *rows[4] = {a, a + lda, a + 2 * lda, a + 3 * lda};
    qc_gemm_u8s8_4x16_indirect_avx512(1, kquads, rows, b, c, ldc, accumulate);
}

/// The u8 kernel, A read tap by tap through the row table (the plain kernel is its one-tap case). One ZMM
/// holds a whole K quad of the panel (channel n's four weights in dword n).
void qc_gemm_u8s8_4x16_indirect_avx512(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m512i c0, c1, c2, c3;
    qc_load_c16(c, ldc, accumulate, &c0, &c1, &c2, &c3);
    const __m512i ones = _mm512_set1_epi16(1);
    for (ptrdiff_t t = 0; t < taps; t++, rows += 4, b += 64 * tap_quads) {
        const uint8_t *a0 = rows[0], *a1 = rows[1], *a2 = rows[2], *a3 = rows[3];
        for (ptrdiff_t q = 0; q < tap_quads; q++) {
            __m512i w = _mm512_loadu_si512(b + 64 * q);
#define QC_STEP(ar, acc) \
            acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_set1_epi32(qc_load_i32(ar + 4 * q)), w), ones));
            QC_STEP(a0, c0) QC_STEP(a1, c1) QC_STEP(a2, c2) QC_STEP(a3, c3)
#undef QC_STEP
        }
    }
    qc_store_c16(c, ldc, c0, c1, c2, c3);
}

/// Two panels: the one-panel kernel on each (this level has too few registers to gain from fusing them).
void qc_gemm_u8s8_4x32_indirect_avx512(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_gemm_u8s8_4x16_indirect_avx512(taps, tap_quads, rows, b, c, ldc, accumulate);
    qc_gemm_u8s8_4x16_indirect_avx512(taps, tap_quads, rows, b + panel_stride, c + 16, ldc, accumulate);
}

void qc_gemm_u8s8_4x16_i16_avx512(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads,
        int32_t *c, ptrdiff_t ldc, int accumulate, ptrdiff_t chunk) {
    __m512i c0, c1, c2, c3;
    qc_load_c16(c, ldc, accumulate, &c0, &c1, &c2, &c3);
    const __m512i ones = _mm512_set1_epi16(1);
    const uint8_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    for (ptrdiff_t q0 = 0; q0 < kquads; q0 += chunk) {
        ptrdiff_t q1 = q0 + chunk < kquads ? q0 + chunk : kquads;
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
        for (ptrdiff_t q = q0; q < q1; q++) {
            __m512i w = _mm512_loadu_si512(b + 64 * q);
#define QC_STEP16(ar, acc) acc = _mm512_add_epi16(acc, _mm512_maddubs_epi16(_mm512_set1_epi32(qc_load_i32(ar + 4 * q)), w));
            QC_STEP16(a0, s0) QC_STEP16(a1, s1) QC_STEP16(a2, s2) QC_STEP16(a3, s3)
#undef QC_STEP16
        }
        c0 = _mm512_add_epi32(c0, _mm512_madd_epi16(s0, ones)); c1 = _mm512_add_epi32(c1, _mm512_madd_epi16(s1, ones));
        c2 = _mm512_add_epi32(c2, _mm512_madd_epi16(s2, ones)); c3 = _mm512_add_epi32(c3, _mm512_madd_epi16(s3, ones));
    }
    qc_store_c16(c, ldc, c0, c1, c2, c3);
}

// ---- Requantization ---------------------------------------------------------------------------------

/// One group of 16 lanes' requantization constants, prepared once per channel block (or once for a
/// per-tensor op) and applied to every row: `qc_rq16_apply` is `qc_requant_one` lane for lane.
typedef struct {
    int profile;
    int plain;            // gemmlowp only: no lane shifts left and no multiplier is INT32_MIN
    __m512i m, m_odd;     // multipliers; the odd lanes' moved to the even dwords
    __m512i shift;        // gemmlowp, not plain: the raw shifts
    __m512i right, mask, half;          // gemmlowp plain: -shift, 2^right - 1, mask >> 1
    __m512i total_even, total_odd;      // single: 31 - shift per 64-bit lane
    __m512i nudge_even, nudge_odd;      // single: 2^(total - 1) per 64-bit lane
    int merged;                         // gemmlowp plain, every lane's right shift 1...31 (or m == 0)
    __m512i add_even, add_odd;          // merged: 2^30 + 2^(right + 30) per 64-bit lane (2^30 where right = 0)
    __m512i below_even, below_odd;      // merged: 2^(right + 30) (INT64_MIN where right = 0)
    __m512i shift_even, shift_odd;      // merged: 31 + right for the even lanes, right - 1 (or 0) for the odd
    int clamped;                        // merged, kind 4: no correction, the output zero point in add_*
} qc_rq16;

static inline __attribute__((always_inline)) qc_rq16 qc_rq16_prepare(__m512i m, __m512i shift, int profile) {
    qc_rq16 p;
    const __m512i zero = _mm512_setzero_si512(), one32 = _mm512_set1_epi32(1);
    p.profile = profile;
    p.clamped = 0;
    p.m = m;
    p.m_odd = _mm512_srli_epi64(m, 32);
    p.shift = shift;
    p.plain = 0;
    p.right = p.mask = p.half = p.total_even = p.total_odd = p.nudge_even = p.nudge_odd = zero;
    if (profile == 1) {
        __m512i total = _mm512_sub_epi32(_mm512_set1_epi32(31), shift);
        const __m512i one = _mm512_set1_epi64(1);
        p.total_even = _mm512_and_si512(total, _mm512_set1_epi64(0xFFFFFFFF));
        p.total_odd = _mm512_srli_epi64(total, 32);
        p.nudge_even = _mm512_sllv_epi64(one, _mm512_sub_epi64(p.total_even, one));
        p.nudge_odd = _mm512_sllv_epi64(one, _mm512_sub_epi64(p.total_odd, one));
    } else {
        __mmask16 unusual = _mm512_cmpgt_epi32_mask(shift, zero) | _mm512_cmpeq_epi32_mask(m, _mm512_set1_epi32(INT32_MIN));
        p.plain = unusual == 0;
        p.right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
        p.mask = _mm512_sub_epi32(_mm512_sllv_epi32(one32, p.right), one32);
        p.half = _mm512_srai_epi32(p.mask, 1);
        // The merged form (qc_rq16_apply_kind, kind 3) where every lane shifts right by 1...31, or has
        // m == 0 (a masked-off lane, or a zero multiplier, whose result is 0 either way).
        const __mmask16 ranged = _mm512_cmpge_epi32_mask(p.right, one32) & _mm512_cmple_epi32_mask(p.right, _mm512_set1_epi32(31));
        p.merged = p.plain && (__mmask16)(ranged | _mm512_cmpeq_epi32_mask(m, zero)) == (__mmask16)0xFFFF;
        p.add_even = p.add_odd = p.below_even = p.below_odd = p.shift_even = p.shift_odd = zero;
        if (p.merged) {
            const __m512i r_even = _mm512_and_si512(p.right, _mm512_set1_epi64(0xFFFFFFFF));
            const __m512i r_odd = _mm512_srli_epi64(p.right, 32);
            const __m512i one = _mm512_set1_epi64(1), thirty = _mm512_set1_epi64(30), zero64 = _mm512_setzero_si512();
            const __m512i low = _mm512_set1_epi64((int64_t)1 << 30), never = _mm512_set1_epi64(INT64_MIN);
            __mmask8 ze = _mm512_cmpeq_epi64_mask(r_even, zero64), zo = _mm512_cmpeq_epi64_mask(r_odd, zero64);
            __m512i be = _mm512_sllv_epi64(one, _mm512_add_epi64(r_even, thirty));
            __m512i bo = _mm512_sllv_epi64(one, _mm512_add_epi64(r_odd, thirty));
            p.below_even = _mm512_mask_mov_epi64(be, ze, never);
            p.below_odd = _mm512_mask_mov_epi64(bo, zo, never);
            p.add_even = _mm512_mask_mov_epi64(_mm512_add_epi64(low, be), ze, low);
            p.add_odd = _mm512_mask_mov_epi64(_mm512_add_epi64(low, bo), zo, low);
            p.shift_even = _mm512_add_epi64(r_even, _mm512_set1_epi64(31));
            p.shift_odd = _mm512_mask_mov_epi64(_mm512_sub_epi64(r_odd, one), zo, zero64);
        }
    }
    return p;
}

/// SaturatingRoundingDoublingHighMul without its saturating case: bits 31..62 of `x * m + 2^30`.
static inline __m512i qc_high_mul16(__m512i x, __m512i m, __m512i m_odd) {
    const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30);
    __m512i even = _mm512_srli_epi64(_mm512_add_epi64(_mm512_mul_epi32(x, m), nudge), 31);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), m_odd), nudge);
    odd = _mm512_slli_epi64(_mm512_srli_epi64(odd, 31), 32);
    return _mm512_mask_blend_epi32(0xAAAA, even, odd);
}

/// RoundingDivideByPOT by per-lane `right`, ties away from zero.
static inline __m512i qc_rdbpot16(__m512i high, __m512i right, __m512i mask, __m512i half) {
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    __m512i remainder = _mm512_and_si512(high, mask);
    __m512i threshold = _mm512_mask_add_epi32(half, _mm512_cmplt_epi32_mask(high, zero), half, one);
    __m512i shifted = _mm512_srav_epi32(high, right);
    return _mm512_mask_add_epi32(shifted, _mm512_cmpgt_epi32_mask(remainder, threshold), shifted, one);
}

/// The case of `qc_rq16_apply` these constants take: 0 single rounding, 1 gemmlowp plain, 2 gemmlowp
/// with left shifts or an INT32_MIN multiplier, 3 gemmlowp plain in one 64-bit step (`qc_rq16_merged`),
/// 4 that step without its correction and with the output zero point added (`qc_rq16_clamp_below`).
/// Loops switch on it once, outside, and call `qc_rq16_apply_kind` / `qc_rq16_apply_z` with a literal,
/// so each loop body is compiled for its case without branches.
static inline int qc_rq16_kind(const qc_rq16 *p) {
    return p->profile == 1 ? 0 : p->clamped ? 4 : p->merged ? 3 : p->plain ? 1 : 2;
}

/// Kind 3, gemmlowp plain with right shifts r of 1...31: SaturatingRoundingDoublingHighMul then
/// RoundingDivideByPOT in one 64-bit step per lane. With P0 = x m + 2^30, high = floor(P0 / 2^31) and
/// the rounding divide is floor((high + 2^(r-1) - [high < 0]) / 2^r); high < 0 exactly when P0 < 0, and
/// floor((floor(a / b) + c) / d) = floor((a + c b) / (b d)) for integer c, so the result is
///     floor((x m + 2^30 + 2^(r+30) - [P0 < 0] 2^31) / 2^(31+r)),
/// with P0 < 0 exactly when x m + 2^30 + 2^(r+30) < 2^(r+30). The even lanes shift by 31 + r and keep
/// their low dword; the odd lanes shift by r - 1, which leaves the same result in their high dword.
/// (A lane with m == 0 and r == 0 adds 2^30 only and never corrects: 0, as the two steps give.)
static inline __attribute__((always_inline)) __m512i qc_rq16_merged(const qc_rq16 *p, __m512i x) {
    const __m512i two31 = _mm512_set1_epi64((int64_t)1 << 31);
    __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, p->m), p->add_even);
    __m512i po = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), p->m_odd), p->add_odd);
    pe = _mm512_mask_sub_epi64(pe, _mm512_cmplt_epi64_mask(pe, p->below_even), pe, two31);
    po = _mm512_mask_sub_epi64(po, _mm512_cmplt_epi64_mask(po, p->below_odd), po, two31);
    return _mm512_mask_blend_epi32(0xAAAA, _mm512_srav_epi64(pe, p->shift_even), _mm512_srav_epi64(po, p->shift_odd));
}

/// Kind 3 for outputs clamped below at lo >= zout (a ReLU's range), where every multiplier m >= 0 and
/// the output zero point z satisfies (|z| + 1) 2^(31+r) <= 2^61 (r the lane's right shift; 2^31 where
/// r = 0, m = 0). Then:
/// - The correction (`qc_rq16_merged`) cannot change an output. x >= 0 never corrects (P0 >= 2^30).
///   For x < 0, x m <= 0, so the numerator x m + 2^30 + 2^(r+30) is below 2^(31+r) and the result
///   is <= 0 with the correction or without; z + result <= z <= lo clamps to lo either way.
/// - z is added inside the 64-bit step: floor(N / D) + z = floor((N + z D) / D) with D the lane's
///   divisor (2^(31+r) even, 2^(32 + its shift) odd), and |N + z D| < 2^62 + 2^61 + 2^61 = 2^63, so
///   the low 32 bits are the int32 add's, wrapped as the reference wraps it.
/// Upgrades merged constants to kind 4 when every lane qualifies; otherwise leaves them as they are.
static inline __attribute__((always_inline)) void qc_rq16_clamp_below(qc_rq16 *p, int32_t zout, int32_t lo) {
    if (!p->merged || lo < zout) return;
    const __m512i zero = _mm512_setzero_si512();
    const __mmask16 negative = _mm512_cmplt_epi32_mask(p->m, zero);
    // (|z| + 1) 2^(31+r) <= 2^61 per lane: |z| + 1 <= 2^(30 - r), with r <= 30.
    const int64_t z1 = (zout < 0 ? -(int64_t)zout : (int64_t)zout) + 1;
    __mmask16 fits = _mm512_cmple_epi32_mask(p->right, _mm512_set1_epi32(30));
    if (negative != 0 || fits != (__mmask16)0xFFFF) return;
    __m512i limit = _mm512_sllv_epi32(_mm512_set1_epi32(1), _mm512_sub_epi32(_mm512_set1_epi32(30), p->right));
    if (z1 > (int64_t)1 << 30 || _mm512_cmplt_epi32_mask(limit, _mm512_set1_epi32((int32_t)z1)) != 0) return;
    const __m512i vz = _mm512_set1_epi64(zout);
    const __m512i odd_total = _mm512_add_epi64(p->shift_odd, _mm512_set1_epi64(32));
    p->add_even = _mm512_add_epi64(p->add_even, _mm512_sllv_epi64(vz, p->shift_even));
    p->add_odd = _mm512_add_epi64(p->add_odd, _mm512_sllv_epi64(vz, odd_total));
    p->clamped = 1;
}

static inline __attribute__((always_inline)) __m512i qc_rq16_apply_kind(const qc_rq16 *p, __m512i x, int kind) {
    if (kind == 4) {
        __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, p->m), p->add_even);
        __m512i po = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), p->m_odd), p->add_odd);
        return _mm512_mask_blend_epi32(0xAAAA, _mm512_srav_epi64(pe, p->shift_even), _mm512_srav_epi64(po, p->shift_odd));
    }
    if (kind == 0) {
        __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, p->m), p->nudge_even);
        __m512i po = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), p->m_odd), p->nudge_odd);
        pe = _mm512_srav_epi64(pe, p->total_even);
        po = _mm512_srav_epi64(po, p->total_odd);
        return _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    }
    if (kind == 3) return qc_rq16_merged(p, x);
    if (kind == 1) return qc_rdbpot16(qc_high_mul16(x, p->m, p->m_odd), p->right, p->mask, p->half);
    const __m512i zero = _mm512_setzero_si512(), min32 = _mm512_set1_epi32(INT32_MIN);
    __m512i scaled = _mm512_sllv_epi32(x, _mm512_max_epi32(p->shift, zero));
    __m512i high = qc_high_mul16(scaled, p->m, p->m_odd);
    __mmask16 overflow = _mm512_cmpeq_epi32_mask(scaled, min32) & _mm512_cmpeq_epi32_mask(p->m, min32);
    high = _mm512_mask_mov_epi32(high, overflow, _mm512_set1_epi32(INT32_MAX));
    return qc_rdbpot16(high, p->right, p->mask, p->half);
}

static inline __attribute__((always_inline)) __m512i qc_rq16_apply(const qc_rq16 *p, __m512i x) {
    return qc_rq16_apply_kind(p, x, qc_rq16_kind(p));
}

/// `apply(x) + zout` (wrapping), for constants passed through `qc_rq16_clamp_below(p, zout, ...)`.
static inline __attribute__((always_inline)) __m512i qc_rq16_apply_z(const qc_rq16 *p, __m512i x, int kind, __m512i vz) {
    return kind == 4 ? qc_rq16_apply_kind(p, x, 4) : _mm512_add_epi32(qc_rq16_apply_kind(p, x, kind), vz);
}

/// `body(kind)` compiled once per case of `qc_rq16_kind(p)`, chosen once.
#define QC_RQ16_SWITCH(p, body)            \
    switch (qc_rq16_kind(p)) {             \
    case 0: body(0); break;                \
    case 1: body(1); break;                \
    case 3: body(3); break;                \
    case 4: body(4); break;                \
    default: body(2); break;               \
    }


void qc_requant_rows_avx512(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t channels,
        const int32_t *bias, const int32_t *mult, const int32_t *shift,
        int32_t zout, int32_t lo, int32_t hi, int32_t *out, ptrdiff_t out_stride,
        int profile) {
    const __m512i vz = _mm512_set1_epi32(zout), vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
    ptrdiff_t first = 0;
    if (channels == 8 || channels == 4) {
        // Rows of 8 or 4 channels would fill half or a quarter of a ZMM: 2 or 4 rows per vector instead,
        // the channel parameters repeated across it (the same lane arithmetic, lanes rearranged).
        const int eight = channels == 8;
        const __m512i vb = eight ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)bias))
                                 : _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)bias));
        const __m512i vm = eight ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)mult))
                                 : _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)mult));
        const __m512i vs = eight ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)shift))
                                 : _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)shift));
        qc_rq16 p = qc_rq16_prepare(vm, vs, profile);
        qc_rq16_clamp_below(&p, zout, lo);
        const ptrdiff_t per = 16 / channels;
        const int kind = qc_rq16_kind(&p);
        if (ldc == channels && out_stride == channels) {
            // Rows back to back in both (a depthwise conv's accumulators and output): 16 values are
            // `per` whole rows, one load and one store, no lane moves.
            for (; first + per <= rows; first += per) {
                __m512i x = _mm512_add_epi32(_mm512_loadu_si512(c + first * channels), vb);
                x = kind == 0 ? qc_rq16_apply_z(&p, x, 0, vz) : kind == 4 ? qc_rq16_apply_z(&p, x, 4, vz)
                  : kind == 3 ? qc_rq16_apply_z(&p, x, 3, vz) : kind == 1 ? qc_rq16_apply_z(&p, x, 1, vz)
                  : qc_rq16_apply_z(&p, x, 2, vz);
                _mm512_storeu_si512(out + first * channels, _mm512_min_epi32(_mm512_max_epi32(x, vlo), vhi));
            }
        }
        for (; first + per <= rows; first += per) {
            const int32_t *src = c + first * ldc;
            int32_t *dst = out + first * out_stride;
            __m512i x;
            if (eight) {
                x = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)src)),
                                       _mm256_loadu_si256((const __m256i *)(src + ldc)), 1);
            } else {
                x = _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)src));
                x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)(src + ldc)), 1);
                x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)(src + 2 * ldc)), 2);
                x = _mm512_inserti32x4(x, _mm_loadu_si128((const __m128i *)(src + 3 * ldc)), 3);
            }
            x = _mm512_add_epi32(x, vb);
            x = kind == 0 ? qc_rq16_apply_z(&p, x, 0, vz) : kind == 4 ? qc_rq16_apply_z(&p, x, 4, vz)
              : kind == 3 ? qc_rq16_apply_z(&p, x, 3, vz) : kind == 1 ? qc_rq16_apply_z(&p, x, 1, vz)
              : qc_rq16_apply_z(&p, x, 2, vz);
            __m512i y = _mm512_min_epi32(_mm512_max_epi32(x, vlo), vhi);
            if (eight) {
                _mm256_storeu_si256((__m256i *)dst, _mm512_castsi512_si256(y));
                _mm256_storeu_si256((__m256i *)(dst + out_stride), _mm512_extracti64x4_epi64(y, 1));
            } else {
                _mm_storeu_si128((__m128i *)dst, _mm512_castsi512_si128(y));
                _mm_storeu_si128((__m128i *)(dst + out_stride), _mm512_extracti32x4_epi32(y, 1));
                _mm_storeu_si128((__m128i *)(dst + 2 * out_stride), _mm512_extracti32x4_epi32(y, 2));
                _mm_storeu_si128((__m128i *)(dst + 3 * out_stride), _mm512_extracti32x4_epi32(y, 3));
            }
        }
    }
    for (ptrdiff_t j0 = 0; j0 < channels; j0 += 16) {
        const __mmask16 k = qc_lanes16(channels - j0);
        __m512i vb = _mm512_maskz_loadu_epi32(k, bias + j0);
        qc_rq16 p = qc_rq16_prepare(_mm512_maskz_loadu_epi32(k, mult + j0), _mm512_maskz_loadu_epi32(k, shift + j0), profile);
        qc_rq16_clamp_below(&p, zout, lo);
        const int32_t *src = c + j0;
        int32_t *dst = out + j0;
        // Whole 16-channel blocks load and store without masks (masked stores are slow on some cores),
        // two rows per step; a partial block takes the masked loop.
#define QC_ROWS_BODY(kind)                                                                                      \
        {                                                                                                       \
            ptrdiff_t r = first;                                                                                \
            if (k == (__mmask16)0xFFFF) {                                                                       \
                for (; r + 2 <= rows; r += 2) {                                                                 \
                    __m512i x0 = _mm512_add_epi32(_mm512_loadu_si512(src + r * ldc), vb);                       \
                    __m512i x1 = _mm512_add_epi32(_mm512_loadu_si512(src + (r + 1) * ldc), vb);                 \
                    __m512i y0 = qc_rq16_apply_z(&p, x0, kind, vz);                                             \
                    __m512i y1 = qc_rq16_apply_z(&p, x1, kind, vz);                                             \
                    _mm512_storeu_si512(dst + r * out_stride, _mm512_min_epi32(_mm512_max_epi32(y0, vlo), vhi)); \
                    _mm512_storeu_si512(dst + (r + 1) * out_stride, _mm512_min_epi32(_mm512_max_epi32(y1, vlo), vhi)); \
                }                                                                                               \
            }                                                                                                   \
            for (; r < rows; r++) {                                                                             \
                __m512i x = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, src + r * ldc), vb);                   \
                __m512i y = qc_rq16_apply_z(&p, x, kind, vz);                                                   \
                _mm512_mask_storeu_epi32(dst + r * out_stride, k, _mm512_min_epi32(_mm512_max_epi32(y, vlo), vhi)); \
            }                                                                                                   \
        }
        QC_RQ16_SWITCH(&p, QC_ROWS_BODY)
#undef QC_ROWS_BODY
    }
}

void qc_requant_flat_avx512(const int32_t *x, ptrdiff_t n, int32_t m, int32_t shift, int32_t zout,
        int32_t lo, int32_t hi, int32_t *out, int profile) {
    qc_rq16 p = qc_rq16_prepare(_mm512_set1_epi32(m), _mm512_set1_epi32(shift), profile);
    qc_rq16_clamp_below(&p, zout, lo);
    const __m512i vz = _mm512_set1_epi32(zout), vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
#define QC_FLAT_BODY(kind)                                                                                      \
    {                                                                                                           \
        ptrdiff_t i = 0;                                                                                        \
        for (; i + 16 <= n; i += 16) {                                                                          \
            __m512i y = qc_rq16_apply_z(&p, _mm512_loadu_si512(x + i), kind, vz);                               \
            _mm512_storeu_si512(out + i, _mm512_min_epi32(_mm512_max_epi32(y, vlo), vhi));                      \
        }                                                                                                       \
        if (i < n) {                                                                                            \
            const __mmask16 k = qc_lanes16(n - i);                                                              \
            __m512i y = qc_rq16_apply_z(&p, _mm512_maskz_loadu_epi32(k, x + i), kind, vz);                      \
            _mm512_mask_storeu_epi32(out + i, k, _mm512_min_epi32(_mm512_max_epi32(y, vlo), vhi));              \
        }                                                                                                       \
    }
    QC_RQ16_SWITCH(&p, QC_FLAT_BODY)
#undef QC_FLAT_BODY
}

void qc_rescale_accumulate_avx512(const int32_t *x, ptrdiff_t n, int32_t z, int32_t left, int32_t m,
        int32_t shift, int32_t sign, int32_t *acc, int accumulate, int profile) {
    const qc_rq16 p = qc_rq16_prepare(_mm512_set1_epi32(m), _mm512_set1_epi32(shift), profile);
    const __m512i vz = _mm512_set1_epi32(z);
    const __m128i vl = _mm_cvtsi32_si128(left);
    // sign is +1 or -1: subtracting wraps exactly as adding sign * v does.
#define QC_RESCALE_STEP(kind, load, store)                                                                      \
    {                                                                                                           \
        __m512i v = qc_rq16_apply_kind(&p, _mm512_sll_epi32(_mm512_sub_epi32(load(x + i), vz), vl), kind);      \
        __m512i base = accumulate ? load(acc + i) : _mm512_setzero_si512();                                     \
        store(acc + i, sign < 0 ? _mm512_sub_epi32(base, v) : _mm512_add_epi32(base, v));                       \
    }
#define QC_FULL_LOAD(ptr) _mm512_loadu_si512(ptr)
#define QC_FULL_STORE(ptr, v) _mm512_storeu_si512(ptr, v)
#define QC_PART_LOAD(ptr) _mm512_maskz_loadu_epi32(k, ptr)
#define QC_PART_STORE(ptr, v) _mm512_mask_storeu_epi32(ptr, k, v)
#define QC_RESCALE_BODY(kind)                                                                                   \
    {                                                                                                           \
        ptrdiff_t i = 0;                                                                                        \
        for (; i + 16 <= n; i += 16) QC_RESCALE_STEP(kind, QC_FULL_LOAD, QC_FULL_STORE)                        \
        if (i < n) {                                                                                            \
            const __mmask16 k = qc_lanes16(n - i);                                                              \
            QC_RESCALE_STEP(kind, QC_PART_LOAD, QC_PART_STORE)                                                  \
        }                                                                                                       \
    }
    QC_RQ16_SWITCH(&p, QC_RESCALE_BODY)
#undef QC_RESCALE_BODY
#undef QC_RESCALE_STEP
#undef QC_FULL_LOAD
#undef QC_FULL_STORE
#undef QC_PART_LOAD
#undef QC_PART_STORE
}

/// A 3x3, dilation-1 row's pixels `ox0 ..< ox1`, whose nine taps all lie inside the image (`top` is
/// the input row of the first filter row): the nine weight vectors of a channel block stay in
/// registers, and the zero point comes out once, `sum (x - zin) w = sum x w - zin sum w` (exact in
/// wrapping int32). Eight channels at stride 1 take two pixels per ZMM (adjacent pixels' taps are
/// adjacent in the input). Returns the first pixel not done (a last odd pixel of the paired form).
static ptrdiff_t qc_dw3x3_inside_avx512(const int32_t *top, ptrdiff_t in_w, ptrdiff_t channels, const int32_t *weights,
                                        int32_t zin, ptrdiff_t stride_w, ptrdiff_t pad_left, ptrdiff_t ox0,
                                        ptrdiff_t ox1, int32_t *acc) {
    const ptrdiff_t row = in_w * channels;
    const __m512i vz = _mm512_set1_epi32(zin);
    __m512i w[9];
#define QC_DW9(load, store)                                                                                      \
    {                                                                                                            \
        __m512i s0 = _mm512_mullo_epi32(load(x), w[0]), s1 = _mm512_mullo_epi32(load(x + step), w[1]);           \
        __m512i s2 = _mm512_mullo_epi32(load(x + 2 * step), w[2]);                                               \
        s0 = _mm512_add_epi32(s0, _mm512_mullo_epi32(load(x + row), w[3]));                                      \
        s1 = _mm512_add_epi32(s1, _mm512_mullo_epi32(load(x + row + step), w[4]));                               \
        s2 = _mm512_add_epi32(s2, _mm512_mullo_epi32(load(x + row + 2 * step), w[5]));                           \
        s0 = _mm512_add_epi32(s0, _mm512_mullo_epi32(load(x + 2 * row), w[6]));                                  \
        s1 = _mm512_add_epi32(s1, _mm512_mullo_epi32(load(x + 2 * row + step), w[7]));                           \
        s2 = _mm512_add_epi32(s2, _mm512_mullo_epi32(load(x + 2 * row + 2 * step), w[8]));                       \
        store(_mm512_sub_epi32(_mm512_add_epi32(_mm512_add_epi32(s0, s1), s2), zsum));                           \
    }
    if (channels == 8 && stride_w == 1) {
        __m512i sum = _mm512_setzero_si512();
        for (int t = 0; t < 9; t++) {
            w[t] = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(weights + 8 * t)));
            sum = _mm512_add_epi32(sum, w[t]);
        }
        const __m512i zsum = _mm512_mullo_epi32(sum, vz);
        const ptrdiff_t step = 8;
        ptrdiff_t ox = ox0;
        for (; ox + 2 <= ox1; ox += 2) {
            const int32_t *x = top + (ox - pad_left) * 8;
            int32_t *a = acc + ox * 8;
#define QC_LOAD(p) _mm512_loadu_si512(p)
#define QC_STORE(v) _mm512_storeu_si512(a, v)
            QC_DW9(QC_LOAD, QC_STORE)
#undef QC_LOAD
#undef QC_STORE
        }
        return ox;
    }
    const ptrdiff_t step = channels;
    for (ptrdiff_t c = 0; c < channels; c += 16) {
        const __mmask16 k = qc_lanes16(channels - c);
        __m512i sum = _mm512_setzero_si512();
        for (int t = 0; t < 9; t++) {
            w[t] = _mm512_maskz_loadu_epi32(k, weights + t * channels + c);
            sum = _mm512_add_epi32(sum, w[t]);
        }
        const __m512i zsum = _mm512_mullo_epi32(sum, vz);
        for (ptrdiff_t ox = ox0; ox < ox1; ox++) {
            const int32_t *x = top + (ox * stride_w - pad_left) * channels + c;
            int32_t *a = acc + ox * channels + c;
#define QC_LOAD(p) _mm512_maskz_loadu_epi32(k, p)
#define QC_STORE(v) _mm512_mask_storeu_epi32(a, k, v)
            QC_DW9(QC_LOAD, QC_STORE)
#undef QC_LOAD
#undef QC_STORE
        }
    }
#undef QC_DW9
    return ox1;
}

/// One output pixel of the generic row: 16 channels per ZMM, the last block masked.
static inline void qc_dw_pixel_avx512(const int32_t *sample, ptrdiff_t in_w, ptrdiff_t channels, const int32_t *weights,
                                      __m512i vz, ptrdiff_t kernel_w, ptrdiff_t stride_w, ptrdiff_t dilation_h,
                                      ptrdiff_t dilation_w, ptrdiff_t pad_left, ptrdiff_t origin_y, ptrdiff_t ky0,
                                      ptrdiff_t ky1, ptrdiff_t ox, int32_t *acc) {
    const ptrdiff_t row = in_w * channels;
    ptrdiff_t origin_x = ox * stride_w - pad_left, kx0, kx1;
    qc_dw_tap_range(origin_x, kernel_w, dilation_w, in_w, &kx0, &kx1);
    int32_t *a = acc + ox * channels;
    const ptrdiff_t base = (origin_y + ky0 * dilation_h) * row + (origin_x + kx0 * dilation_w) * channels;
    const int32_t *w0 = weights + (ky0 * kernel_w + kx0) * channels;
    const ptrdiff_t taps_y = ky1 - ky0, taps_x = kx1 - kx0;
    ptrdiff_t c = 0;
    for (; c + 32 <= channels; c += 32) {
        __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();
        for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
            for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                const int32_t *x = sample + (base + ky * dilation_h * row + kx * dilation_w * channels + c);
                const int32_t *w = w0 + (ky * kernel_w + kx) * channels + c;
                s0 = _mm512_add_epi32(s0, _mm512_mullo_epi32(_mm512_sub_epi32(_mm512_loadu_si512(x), vz), _mm512_loadu_si512(w)));
                s1 = _mm512_add_epi32(s1, _mm512_mullo_epi32(_mm512_sub_epi32(_mm512_loadu_si512(x + 16), vz),
                                                             _mm512_loadu_si512(w + 16)));
            }
        }
        _mm512_storeu_si512(a + c, s0);
        _mm512_storeu_si512(a + c + 16, s1);
    }
    for (; c < channels; c += 16) {
        const __mmask16 k = qc_lanes16(channels - c);
        __m512i s0 = _mm512_setzero_si512();
        for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
            for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                const int32_t *x = sample + (base + ky * dilation_h * row + kx * dilation_w * channels + c);
                const int32_t *w = w0 + (ky * kernel_w + kx) * channels + c;
                s0 = _mm512_add_epi32(s0, _mm512_mullo_epi32(_mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, x), vz),
                                                             _mm512_maskz_loadu_epi32(k, w)));
            }
        }
        _mm512_mask_storeu_epi32(a + c, k, s0);
    }
}

/// 16 channels per ZMM held over the window, the last block masked.
void qc_maxpool_row_i32_avx512(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
        ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
        ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t empty, int32_t *out) {
    ptrdiff_t ylo, yhi;
    qc_pool_span(out_y * stride_h - pad_top, kernel_h, in_h, &ylo, &yhi);
    const __m512i vempty = _mm512_set1_epi32(empty), vmin = _mm512_set1_epi32(INT32_MIN);
    // A 3x3 window wholly inside (the interior of a 3x3 pool): its nine pixels unrolled, full channel
    // blocks without masks; the maximum of the nine is the loop's, which starts from INT32_MIN.
    const int rows3 = kernel_h == 3 && kernel_w == 3 && yhi - ylo == 3;
    const ptrdiff_t line = in_w * channels;
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t xlo, xhi;
        qc_pool_span(ox * stride_w - pad_left, kernel_w, in_w, &xlo, &xhi);
        int32_t *dst = out + ox * channels;
        if (rows3 && xhi - xlo == 3) {
            const int32_t *top = sample + (ylo * in_w + xlo) * channels;
#define QC_MAX9(load, c)                                                                                         \
            _mm512_max_epi32(                                                                                    \
                _mm512_max_epi32(_mm512_max_epi32(load(top + (c)), load(top + (c) + channels)),                  \
                                 _mm512_max_epi32(load(top + (c) + 2 * channels), load(top + (c) + line))),      \
                _mm512_max_epi32(                                                                                \
                    _mm512_max_epi32(_mm512_max_epi32(load(top + (c) + line + channels),                         \
                                                      load(top + (c) + line + 2 * channels)),                    \
                                     _mm512_max_epi32(load(top + (c) + 2 * line), load(top + (c) + 2 * line + channels))), \
                    load(top + (c) + 2 * line + 2 * channels)))
#define QC_FULL(ptr) _mm512_loadu_si512(ptr)
#define QC_PART(ptr) _mm512_maskz_loadu_epi32(k, ptr)
            ptrdiff_t c = 0;
            for (; c + 16 <= channels; c += 16) _mm512_storeu_si512(dst + c, QC_MAX9(QC_FULL, c));
            if (c < channels) {
                const __mmask16 k = qc_lanes16(channels - c);
                _mm512_mask_storeu_epi32(dst + c, k, QC_MAX9(QC_PART, c));
            }
#undef QC_FULL
#undef QC_PART
#undef QC_MAX9
            continue;
        }
        const int none = ylo >= yhi || xlo >= xhi;
        for (ptrdiff_t c = 0; c < channels; c += 16) {
            const __mmask16 k = qc_lanes16(channels - c);
            __m512i m = none ? vempty : vmin;
            for (ptrdiff_t y = ylo; y < yhi && !none; y++) {
                const int32_t *src = sample + (y * in_w + xlo) * channels + c;
                for (ptrdiff_t x = xlo; x < xhi; x++, src += channels) m = _mm512_max_epi32(m, _mm512_maskz_loadu_epi32(k, src));
            }
            _mm512_mask_storeu_epi32(dst + c, k, m);
        }
    }
}

/// `vpgatherdd`, 16 lookups per instruction: flat over the array when the channel pattern repeats
/// every 16 lanes (`16 % channels == 0`), else 16 channels of one row at a time, the last block masked.
/// Masked-off lanes are not gathered.
void qc_lookup_i32_avx512(const int32_t *x, ptrdiff_t n, ptrdiff_t channels, const int32_t *table, ptrdiff_t levels,
        int32_t offset, int32_t *out) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i voffset = _mm512_set1_epi32(offset), vlevels = _mm512_set1_epi32((int32_t)levels);
    if (channels <= 16 && 16 % channels == 0) {
        // Lane j is channel j % channels in every block (n is whole rows).
        const __m512i base = _mm512_mullo_epi32(_mm512_and_si512(lane, _mm512_set1_epi32((int32_t)channels - 1)), vlevels);
        for (ptrdiff_t i = 0; i < n; i += 16) {
            const __mmask16 k = qc_lanes16(n - i);
            __m512i idx = _mm512_add_epi32(_mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, x + i), voffset), base);
            _mm512_mask_storeu_epi32(out + i, k, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, idx, table, 4));
        }
        return;
    }
    for (ptrdiff_t r = 0; r < n; r += channels) {
        for (ptrdiff_t c = 0; c < channels; c += 16) {
            const __mmask16 k = qc_lanes16(channels - c);
            const __m512i base = _mm512_mullo_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32((int32_t)c)), vlevels);
            __m512i idx = _mm512_add_epi32(_mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, x + r + c), voffset), base);
            _mm512_mask_storeu_epi32(out + r + c, k, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), k, idx, table, 4));
        }
    }
}

/// 16 channels per ZMM summed over the window in int32, then the multiply-shift division on even and
/// odd lanes (`vpmuludq`: |sum| + n/2 < 2^30 and magic < 2^32, so each product fits 64 bits).
void qc_avgpool_row_i32_avx512(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
        ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
        ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, const uint64_t *magic, const uint64_t *shift,
        int32_t empty, int32_t lo, int32_t hi, int32_t *out) {
    ptrdiff_t ylo, yhi;
    qc_pool_span(out_y * stride_h - pad_top, kernel_h, in_h, &ylo, &yhi);
    const __m512i vempty = _mm512_set1_epi32(empty), vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
    const __m512i zero = _mm512_setzero_si512();
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t xlo, xhi;
        qc_pool_span(ox * stride_w - pad_left, kernel_w, in_w, &xlo, &xhi);
        int32_t *dst = out + ox * channels;
        if (ylo >= yhi || xlo >= xhi) {
            for (ptrdiff_t c = 0; c < channels; c += 16) _mm512_mask_storeu_epi32(dst + c, qc_lanes16(channels - c), vempty);
            continue;
        }
        const ptrdiff_t count = (yhi - ylo) * (xhi - xlo);
        const __m512i vm = _mm512_set1_epi64((int64_t)magic[count]), vhalf = _mm512_set1_epi32((int32_t)(count / 2));
        const __m128i vs = _mm_cvtsi64_si128((int64_t)shift[count]);
        for (ptrdiff_t c = 0; c < channels; c += 16) {
            const __mmask16 k = qc_lanes16(channels - c);
            __m512i sum = zero;
            for (ptrdiff_t y = ylo; y < yhi; y++) {
                const int32_t *src = sample + (y * in_w + xlo) * channels + c;
                for (ptrdiff_t x = xlo; x < xhi; x++, src += channels) sum = _mm512_add_epi32(sum, _mm512_maskz_loadu_epi32(k, src));
            }
            const __m512i a = _mm512_add_epi32(_mm512_abs_epi32(sum), vhalf);
            const __m512i even = _mm512_srl_epi64(_mm512_mul_epu32(a, vm), vs);
            const __m512i odd = _mm512_srl_epi64(_mm512_mul_epu32(_mm512_srli_epi64(a, 32), vm), vs);
            __m512i q = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
            q = _mm512_mask_sub_epi32(q, _mm512_cmplt_epi32_mask(sum, zero), zero, q);
            _mm512_mask_storeu_epi32(dst + c, k, _mm512_min_epi32(_mm512_max_epi32(q, vlo), vhi));
        }
    }
}

/// `x - offset` to bytes, 16 at a time (`vpmovdb` keeps each lane's low byte), the tail masked.
void qc_offset_u8_avx512(const int32_t *x, ptrdiff_t n, int32_t offset, uint8_t *out) {
    const __m512i voffset = _mm512_set1_epi32(offset);
    for (ptrdiff_t i = 0; i < n; i += 16) {
        const __mmask16 k = qc_lanes16(n - i);
        _mm512_mask_cvtepi32_storeu_epi8(out + i, k, _mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, x + i), voffset));
    }
}

/// 16 channels per ZMM, the last block masked; a 3x3 dilation-1 row's pixels whose taps all lie inside
/// take `qc_dw3x3_inside_avx512`.
void qc_depthwise_row_i32_avx512(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                                 const int32_t *weights, int32_t zin, ptrdiff_t kernel_h, ptrdiff_t kernel_w,
                                 ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w,
                                 ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc) {
    ptrdiff_t origin_y = out_y * stride_h - pad_top, ky0, ky1;
    qc_dw_tap_range(origin_y, kernel_h, dilation_h, in_h, &ky0, &ky1);
    const __m512i vz = _mm512_set1_epi32(zin);
    // Pixels lo ..< hi have all three columns of taps inside: origin_x >= 0 and origin_x + 2 < in_w.
    ptrdiff_t lo = out_w, hi = out_w;
    if (kernel_h == 3 && kernel_w == 3 && dilation_h == 1 && dilation_w == 1 && ky0 == 0 && ky1 == 3 && in_w >= 3) {
        lo = (pad_left + stride_w - 1) / stride_w;
        hi = (in_w - 3 + pad_left) / stride_w + 1;
        if (hi > out_w) hi = out_w;
        if (lo > hi) lo = hi;
        hi = qc_dw3x3_inside_avx512(sample + origin_y * in_w * channels, in_w, channels, weights, zin, stride_w, pad_left,
                                    lo, hi, acc);
    }
    for (ptrdiff_t ox = 0; ox < lo; ox++) {
        qc_dw_pixel_avx512(sample, in_w, channels, weights, vz, kernel_w, stride_w, dilation_h, dilation_w, pad_left,
                           origin_y, ky0, ky1, ox, acc);
    }
    for (ptrdiff_t ox = hi; ox < out_w; ox++) {
        qc_dw_pixel_avx512(sample, in_w, channels, weights, vz, kernel_w, stride_w, dilation_h, dilation_w, pad_left,
                           origin_y, ky0, ky1, ox, acc);
    }
}

/// The s16 path's peak probe (`qc_int8_probe_s16_avx2` in ZMM): twelve chains of `vpmaddwd` + `vpaddd`,
/// the 8-bit-weight GEMM's instruction at this level (`vpmaddubsw` saturates past |w| = 64).
int64_t qc_int8_probe_s16_avx512(ptrdiff_t iterations, int64_t seed, int64_t *ops) {
    QC_PROBE_BODY(__m512i, _mm512_set1_epi16((short)(seed & 0x7f)), _mm512_set1_epi32, _mm512_madd_epi16,
                  _mm512_add_epi32, _mm512_storeu_si512, int32_t, 16, 32)
}

/// The level's int8 peak probe: twelve chains of `vpmaddubsw` zmm (64 u8 x s8 products in int16
/// pairs) added in int16, the inner step of the int16-chunked u8 kernel.
int64_t qc_int8_probe_avx512(ptrdiff_t iterations, int64_t seed, int64_t *ops) {
    QC_PROBE_BODY(__m512i, _mm512_set1_epi8((char)(seed & 0x3f)), _mm512_set1_epi16, _mm512_maddubs_epi16,
                  _mm512_add_epi16, _mm512_storeu_si512, int16_t, 32, 64)
}


// ---- Two-input add in one pass (qc_add2_requant) ------------------------------------------------------

void qc_add2_requant_avx512(const int32_t *x0, const int32_t *x1, ptrdiff_t n, int32_t z0, int32_t z1, int32_t left,
        int32_t m0, int32_t s0, int32_t m1, int32_t s1, int32_t sign0, int32_t sign1, int32_t m, int32_t shift,
        int32_t zout, int32_t lo, int32_t hi, int32_t *out, int profile) {
    const qc_rq16 p0 = qc_rq16_prepare(_mm512_set1_epi32(m0), _mm512_set1_epi32(s0), profile);
    const qc_rq16 p1 = qc_rq16_prepare(_mm512_set1_epi32(m1), _mm512_set1_epi32(s1), profile);
    qc_rq16 po = qc_rq16_prepare(_mm512_set1_epi32(m), _mm512_set1_epi32(shift), profile);
    qc_rq16_clamp_below(&po, zout, lo);
    const int k0 = qc_rq16_kind(&p0), k1 = qc_rq16_kind(&p1), ko = qc_rq16_kind(&po);
    // An input whose multiplier is exactly 1/2 (2^30, shift 0: the larger-scale input of TFLite's add)
    // rescales v = (x - z) << left (wrapped to int32; even for left >= 1) to v >> 1, arithmetic, in
    // either profile: gemmlowp's doubling high multiply (v 2^30 + nudge) / 2^31, truncated, and the
    // single rounding floor((v 2^30 + 2^30) / 2^31) are both v / 2 for even v, and neither has a
    // rounding divide after it (shift 0). Kind 5 below.
    const int half0 = m0 == (1 << 30) && s0 == 0 && left >= 1, half1 = m1 == (1 << 30) && s1 == 0 && left >= 1;
    const __m512i vz0 = _mm512_set1_epi32(z0), vz1 = _mm512_set1_epi32(z1), vz = _mm512_set1_epi32(zout);
    const __m512i vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
    const __m128i vl = _mm_cvtsi32_si128(left);
    // Each input's term as `qc_rescale_accumulate` makes it, summed as it sums them (wrapping int32, so
    // the order does not matter), then `qc_requant_flat`'s steps on the sum.
#define QC_ADD2_TERM(p, x, vzi, kin)                                                                            \
    ((kin) == 5 ? _mm512_srai_epi32(_mm512_sll_epi32(_mm512_sub_epi32(x, vzi), vl), 1)                         \
                : qc_rq16_apply_kind(&(p), _mm512_sll_epi32(_mm512_sub_epi32(x, vzi), vl), kin))
#define QC_ADD2_STEP(kin0, kin1, kout, load, store)                                                             \
    {                                                                                                           \
        __m512i v0 = QC_ADD2_TERM(p0, load(x0 + i), vz0, kin0), v1 = QC_ADD2_TERM(p1, load(x1 + i), vz1, kin1); \
        __m512i sum = sign0 < 0 ? _mm512_sub_epi32(_mm512_setzero_si512(), v0) : v0;                            \
        sum = sign1 < 0 ? _mm512_sub_epi32(sum, v1) : _mm512_add_epi32(sum, v1);                                \
        store(out + i, _mm512_min_epi32(_mm512_max_epi32(qc_rq16_apply_z(&po, sum, kout, vz), vlo), vhi));       \
    }
#define QC_FULL_LOAD(ptr) _mm512_loadu_si512(ptr)
#define QC_FULL_STORE(ptr, v) _mm512_storeu_si512(ptr, v)
#define QC_PART_LOAD(ptr) _mm512_maskz_loadu_epi32(k, ptr)
#define QC_PART_STORE(ptr, v) _mm512_mask_storeu_epi32(ptr, k, v)
#define QC_ADD2_BODY(kin0, kin1, kout)                                                                          \
    {                                                                                                           \
        ptrdiff_t i = 0;                                                                                        \
        for (; i + 16 <= n; i += 16) QC_ADD2_STEP(kin0, kin1, kout, QC_FULL_LOAD, QC_FULL_STORE)                \
        if (i < n) {                                                                                            \
            const __mmask16 k = qc_lanes16(n - i);                                                              \
            QC_ADD2_STEP(kin0, kin1, kout, QC_PART_LOAD, QC_PART_STORE)                                         \
        }                                                                                                       \
        return;                                                                                                 \
    }
    // The cases real models take, one loop each: gemmlowp inputs in the merged form (kind 3) or halved,
    // the output merged (3) or merged and clamped below (4); single rounding (0) throughout, inputs
    // possibly halved. Any other mix runs the three kernels in blocks.
#define QC_ADD2_OUT(kin0, kin1)                                                                                 \
    if (ko == 4) QC_ADD2_BODY(kin0, kin1, 4)                                                                   \
    if (ko == 3) QC_ADD2_BODY(kin0, kin1, 3)
    const int a0 = half0 ? 5 : k0, a1 = half1 ? 5 : k1;
    if (ko == 3 || ko == 4) {
        if (a0 == 3 && a1 == 3) { QC_ADD2_OUT(3, 3) }
        if (a0 == 3 && a1 == 5) { QC_ADD2_OUT(3, 5) }
        if (a0 == 5 && a1 == 3) { QC_ADD2_OUT(5, 3) }
        if (a0 == 5 && a1 == 5) { QC_ADD2_OUT(5, 5) }
    }
    if (ko == 0) {
        if (a0 == 0 && a1 == 0) QC_ADD2_BODY(0, 0, 0)
        if (a0 == 0 && a1 == 5) QC_ADD2_BODY(0, 5, 0)
        if (a0 == 5 && a1 == 0) QC_ADD2_BODY(5, 0, 0)
        if (a0 == 5 && a1 == 5) QC_ADD2_BODY(5, 5, 0)
    }
    qc_add2_requant_blocks(qc_kernels_for(QC_ISA_AVX512), x0, x1, n, z0, z1, left, m0, s0, m1, s1, sign0, sign1, m, shift,
                           zout, lo, hi, out, profile);
#undef QC_ADD2_OUT
#undef QC_ADD2_TERM
#undef QC_ADD2_BODY
#undef QC_ADD2_STEP
#undef QC_FULL_LOAD
#undef QC_FULL_STORE
#undef QC_PART_LOAD
#undef QC_PART_STORE
}


// ---- 3x3 depthwise from an image of int16 pairs (qc_dw3x3_pairs_*) -----------------------------------

/// One input row of the pair image: the edge pixels that pair one input pixel with the padding, and
/// between them the interior, where pixel x pairs flat values j and j + channels of the input row, so
/// it runs as one flat loop 16 dwords at a time whatever the channel count (`vpsubw` takes the zero
/// point from both halves at once: only the low 16 bits of each are kept). The zero rows and columns
/// around it are `qc_dw3x3_pairs_build_rows`'.
static void qc_dw3x3_pairs_line_avx512(const int32_t *src, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin, int first_edge,
        int32_t *pixel) {
    const __m512i vz = _mm512_set1_epi32(zin), zz = _mm512_set1_epi16((short)zin), low = _mm512_set1_epi32(0xFFFF);
    const ptrdiff_t interior = (in_w - 1) * channels;
    if (first_edge) {  // (padding, first pixel)
        for (ptrdiff_t c = 0; c < channels; c += 16) {
            const __mmask16 k = qc_lanes16(channels - c);
            __m512i v = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, src + c), vz);
            _mm512_mask_storeu_epi32(pixel + c, k, _mm512_slli_epi32(v, 16));
        }
        pixel += channels;
    }
    ptrdiff_t j = 0;
    for (; j + 16 <= interior; j += 16) {
        __m512i a = _mm512_loadu_si512(src + j), b = _mm512_loadu_si512(src + j + channels);
        _mm512_storeu_si512(pixel + j, _mm512_sub_epi16(_mm512_mask_blend_epi16(0xAAAAAAAA, a, _mm512_slli_epi32(b, 16)), zz));
    }
    if (j < interior) {
        const __mmask16 k = qc_lanes16(interior - j);
        __m512i a = _mm512_maskz_loadu_epi32(k, src + j), b = _mm512_maskz_loadu_epi32(k, src + j + channels);
        _mm512_mask_storeu_epi32(pixel + j, k, _mm512_sub_epi16(_mm512_mask_blend_epi16(0xAAAAAAAA, a, _mm512_slli_epi32(b, 16)), zz));
    }
    for (ptrdiff_t c = 0; c < channels; c += 16) {  // (last pixel, padding)
        const __mmask16 k = qc_lanes16(channels - c);
        __m512i v = _mm512_sub_epi32(_mm512_maskz_loadu_epi32(k, src + interior + c), vz);
        _mm512_mask_storeu_epi32(pixel + interior + c, k, _mm512_and_si512(v, low));
    }
}

void qc_dw3x3_pairs_build_avx512(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin,
        ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t height, ptrdiff_t width, int32_t *pairs) {
    qc_dw3x3_pairs_build_rows(qc_dw3x3_pairs_line_avx512, sample, in_h, in_w, channels, zin, pad_top, pad_left, height, width,
                              pairs);
}

void qc_dw3x3_pairs_row_avx512(const int32_t *pairs, ptrdiff_t width, ptrdiff_t channels, const int32_t *wpairs,
        ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc) {
#define QC_DW_PAIR(s, x, w) s = _mm512_add_epi32(s, _mm512_madd_epi16(x, w))
    QC_DW3X3_PAIRS_ROW_BODY
#undef QC_DW_PAIR
}


// ---- The graph input's quantization (qc_quantize_edge_f32) --------------------------------------------

/// `qc_quantize_edge_one` 16 lanes at a time: `vmaxps` / `vminps` return their second operand for a NaN
/// or an equal pair, as the scalar selects do; the sign is copied with integer logic (AVX-512 F only).
void qc_quantize_edge_f32_avx512(const float *x, ptrdiff_t n, float scale, int32_t zero, float below, float above,
        int32_t *q) {
    const __m512 vs = _mm512_set1_ps(scale), vb = _mm512_set1_ps(below), va = _mm512_set1_ps(above);
    const __m512 t23 = _mm512_set1_ps(8388608.0f), half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    const __m512 zf = _mm512_set1_ps((float)zero), magic = _mm512_set1_ps(12582912.0f);
    const __m512i vz = _mm512_set1_epi32(zero), bias = _mm512_set1_epi32(0x4B400000), sign = _mm512_set1_epi32(INT32_MIN);
    for (ptrdiff_t i = 0; i < n; i += 16) {
        const __mmask16 k = qc_lanes16(n - i);
        const __m512 quotient = _mm512_div_ps(_mm512_maskz_loadu_ps(k, x + i), vs);
        const __m512 y = _mm512_min_ps(_mm512_max_ps(quotient, vb), va);
        const __m512i yi = _mm512_castps_si512(y);
        const __m512 a = _mm512_castsi512_ps(_mm512_andnot_si512(sign, yi));
        const __m512 even = _mm512_sub_ps(_mm512_add_ps(a, t23), t23);
        const __mmask16 tie = _mm512_cmp_ps_mask(_mm512_sub_ps(a, even), half, _CMP_EQ_OQ);
        const __m512 away = _mm512_mask_add_ps(even, tie, even, one);
        const __m512 value = _mm512_add_ps(_mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(away), _mm512_and_si512(yi, sign))), zf);
        __m512i r = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(value, magic)), bias);
        r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(quotient, quotient, _CMP_UNORD_Q), vz);
        _mm512_mask_storeu_epi32(q + i, k, r);
    }
}

#pragma clang attribute pop
#endif
