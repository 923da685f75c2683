// The AVX2 level of the integer kernels (Zen 1-3, Haswell and later): compiled for AVX2 by a
// per-function target attribute, called only when cpuid reports AVX2 and the OS saves YMM state.
// Contracts in include/CKernels.h; every function is tested against the scalar level lane for lane.
//
// Exactness of the instructions used here:
//   s16 path, `vpmaddwd`: multiplies int16 pairs and adds the two products in int32. A is x - zin with
//     x and zin 8-bit, so |a| <= 255; weights are <= 8-bit, |w| <= 128. One pair sum is at most
//     2 * 255 * 128 = 65280 < 2^31: never saturates, exact for the full int8 range.
//   u8 path, `vpmaddubsw`: u8 x s8 products, two added in int16 WITH saturation: exact while
//     2 * 255 * |w| <= 32767, i.e. |w| <= 64 (signed weights of 7 bits or fewer; PackedGEMMWeights
//     chooses this path only then). `vpmaddwd` by ones then widens the pair sums to int32 exactly.
//   u8 path with int16 partial sums (`_i16`): `chunk` quads of pair sums are added in int16 before
//     widening; exact while chunk * 2 * 255 * max|w| <= 32767 (the caller derives chunk from the panel).
//   int32 accumulation (`vpaddd`) wraps, as the scalar level's uint32 sums do.
#include "kernels_internal.h"

#if QC_X86
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

void qc_gemm_s16_4x16_avx2(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs,
        int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m256i c00, c01, c10, c11, c20, c21, c30, c31;
    if (accumulate) {
        c00 = _mm256_loadu_si256((const __m256i *)(c + 0 * ldc)); c01 = _mm256_loadu_si256((const __m256i *)(c + 0 * ldc + 8));
        c10 = _mm256_loadu_si256((const __m256i *)(c + 1 * ldc)); c11 = _mm256_loadu_si256((const __m256i *)(c + 1 * ldc + 8));
        c20 = _mm256_loadu_si256((const __m256i *)(c + 2 * ldc)); c21 = _mm256_loadu_si256((const __m256i *)(c + 2 * ldc + 8));
        c30 = _mm256_loadu_si256((const __m256i *)(c + 3 * ldc)); c31 = _mm256_loadu_si256((const __m256i *)(c + 3 * ldc + 8));
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_si256();
    }
    const int16_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    for (ptrdiff_t p = 0; p < kpairs; p++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + 32 * p));
        __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 32 * p + 16));
        __m256i x;
        x = _mm256_set1_epi32(qc_load_i32(a0 + 2 * p));
        c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(x, b0)); c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(x, b1));
        x = _mm256_set1_epi32(qc_load_i32(a1 + 2 * p));
        c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(x, b0)); c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(x, b1));
        x = _mm256_set1_epi32(qc_load_i32(a2 + 2 * p));
        c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(x, b0)); c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(x, b1));
        x = _mm256_set1_epi32(qc_load_i32(a3 + 2 * p));
        c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(x, b0)); c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(x, b1));
    }
    _mm256_storeu_si256((__m256i *)(c + 0 * ldc), c00); _mm256_storeu_si256((__m256i *)(c + 0 * ldc + 8), c01);
    _mm256_storeu_si256((__m256i *)(c + 1 * ldc), c10); _mm256_storeu_si256((__m256i *)(c + 1 * ldc + 8), c11);
    _mm256_storeu_si256((__m256i *)(c + 2 * ldc), c20); _mm256_storeu_si256((__m256i *)(c + 2 * ldc + 8), c21);
    _mm256_storeu_si256((__m256i *)(c + 3 * ldc), c30); _mm256_storeu_si256((__m256i *)(c + 3 * ldc + 8), c31);
}

void qc_gemm_s16_4x8_avx2(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs,
        int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m256i c0, c1, c2, c3;
    if (accumulate) {
        c0 = _mm256_loadu_si256((const __m256i *)(c + 0 * ldc)); c1 = _mm256_loadu_si256((const __m256i *)(c + 1 * ldc));
        c2 = _mm256_loadu_si256((const __m256i *)(c + 2 * ldc)); c3 = _mm256_loadu_si256((const __m256i *)(c + 3 * ldc));
    } else {
        c0 = c1 = c2 = c3 = _mm256_setzero_si256();
    }
    const int16_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    for (ptrdiff_t p = 0; p < kpairs; p++) {
        __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + 32 * p));
        c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_set1_epi32(qc_load_i32(a0 + 2 * p)), b0));
        c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_set1_epi32(qc_load_i32(a1 + 2 * p)), b0));
        c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(_mm256_set1_epi32(qc_load_i32(a2 + 2 * p)), b0));
        c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(_mm256_set1_epi32(qc_load_i32(a3 + 2 * p)), b0));
    }
    _mm256_storeu_si256((__m256i *)(c + 0 * ldc), c0); _mm256_storeu_si256((__m256i *)(c + 1 * ldc), c1);
    _mm256_storeu_si256((__m256i *)(c + 2 * ldc), c2); _mm256_storeu_si256((__m256i *)(c + 3 * ldc), c3);
}

void qc_gemm_u8s8_4x16_avx2(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads,
        int32_t *c, ptrdiff_t ldc, int accumulate) {
    // The indirect kernel with one tap: the four rows are lda apart.
    const uint8_t *rows[4] = {a, a + lda, a + 2 * lda, a + 3 * lda};
    qc_gemm_u8s8_4x16_indirect_avx2(1, kquads, rows, b, c, ldc, accumulate);
}

/// The u8 kernel, A read tap by tap through the row table (the plain kernel is its one-tap case).
void qc_gemm_u8s8_4x16_indirect_avx2(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m256i c00, c01, c10, c11, c20, c21, c30, c31;
    if (accumulate) {
        c00 = _mm256_loadu_si256((const __m256i *)(c + 0 * ldc)); c01 = _mm256_loadu_si256((const __m256i *)(c + 0 * ldc + 8));
        c10 = _mm256_loadu_si256((const __m256i *)(c + 1 * ldc)); c11 = _mm256_loadu_si256((const __m256i *)(c + 1 * ldc + 8));
        c20 = _mm256_loadu_si256((const __m256i *)(c + 2 * ldc)); c21 = _mm256_loadu_si256((const __m256i *)(c + 2 * ldc + 8));
        c30 = _mm256_loadu_si256((const __m256i *)(c + 3 * ldc)); c31 = _mm256_loadu_si256((const __m256i *)(c + 3 * ldc + 8));
    } else {
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = _mm256_setzero_si256();
    }
    const __m256i ones = _mm256_set1_epi16(1);
    for (ptrdiff_t t = 0; t < taps; t++, rows += 4, b += 64 * tap_quads) {
        const uint8_t *a0 = rows[0], *a1 = rows[1], *a2 = rows[2], *a3 = rows[3];
        for (ptrdiff_t q = 0; q < tap_quads; q++) {
            __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + 64 * q));
            __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 64 * q + 32));
            __m256i x;
#define QC_STEP(ar, lo, hi) \
            x = _mm256_set1_epi32(qc_load_i32(ar + 4 * q)); \
            lo = _mm256_add_epi32(lo, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones)); \
            hi = _mm256_add_epi32(hi, _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones));
            QC_STEP(a0, c00, c01)
            QC_STEP(a1, c10, c11)
            QC_STEP(a2, c20, c21)
            QC_STEP(a3, c30, c31)
#undef QC_STEP
        }
    }
    _mm256_storeu_si256((__m256i *)(c + 0 * ldc), c00); _mm256_storeu_si256((__m256i *)(c + 0 * ldc + 8), c01);
    _mm256_storeu_si256((__m256i *)(c + 1 * ldc), c10); _mm256_storeu_si256((__m256i *)(c + 1 * ldc + 8), c11);
    _mm256_storeu_si256((__m256i *)(c + 2 * ldc), c20); _mm256_storeu_si256((__m256i *)(c + 2 * ldc + 8), c21);
    _mm256_storeu_si256((__m256i *)(c + 3 * ldc), c30); _mm256_storeu_si256((__m256i *)(c + 3 * ldc + 8), c31);
}

/// Two panels: the one-panel kernel on each (this level has too few registers to gain from fusing them).
void qc_gemm_u8s8_4x32_indirect_avx2(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_gemm_u8s8_4x16_indirect_avx2(taps, tap_quads, rows, b, c, ldc, accumulate);
    qc_gemm_u8s8_4x16_indirect_avx2(taps, tap_quads, rows, b + panel_stride, c + 16, ldc, accumulate);
}

void qc_gemm_u8s8_4x16_i16_avx2(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads,
        int32_t *c, ptrdiff_t ldc, int accumulate, ptrdiff_t chunk) {
    const __m256i ones = _mm256_set1_epi16(1);
    if (!accumulate) {
        for (int r = 0; r < 4; r++) {
            _mm256_storeu_si256((__m256i *)(c + r * ldc), _mm256_setzero_si256());
            _mm256_storeu_si256((__m256i *)(c + r * ldc + 8), _mm256_setzero_si256());
        }
    }
    const uint8_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    for (ptrdiff_t q0 = 0; q0 < kquads; q0 += chunk) {
        ptrdiff_t q1 = q0 + chunk < kquads ? q0 + chunk : kquads;
        __m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        for (ptrdiff_t q = q0; q < q1; q++) {
            __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + 64 * q));
            __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 64 * q + 32));
            __m256i x;
#define QC_STEP16(ar, lo, hi) \
            x = _mm256_set1_epi32(qc_load_i32(ar + 4 * q)); \
            lo = _mm256_add_epi16(lo, _mm256_maddubs_epi16(x, b0)); \
            hi = _mm256_add_epi16(hi, _mm256_maddubs_epi16(x, b1));
            QC_STEP16(a0, s00, s01)
            QC_STEP16(a1, s10, s11)
            QC_STEP16(a2, s20, s21)
            QC_STEP16(a3, s30, s31)
#undef QC_STEP16
        }
#define QC_WIDEN(r, lo, hi) \
        _mm256_storeu_si256((__m256i *)(c + r * ldc), \
            _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(c + r * ldc)), _mm256_madd_epi16(lo, ones))); \
        _mm256_storeu_si256((__m256i *)(c + r * ldc + 8), \
            _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(c + r * ldc + 8)), _mm256_madd_epi16(hi, ones)));
        QC_WIDEN(0, s00, s01)
        QC_WIDEN(1, s10, s11)
        QC_WIDEN(2, s20, s21)
        QC_WIDEN(3, s30, s31)
#undef QC_WIDEN
    }
}

/// Arithmetic right shift of 64-bit lanes by per-lane counts 0...63 (AVX2 has only the logical one).
static inline __m256i qc_srav_epi64(__m256i v, __m256i count) {
    __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), count), sign);
}

/// SaturatingRoundingDoublingHighMul without its saturating case (both operands INT32_MIN), eight
/// lanes: bits 31..62 of `x * m + 2^30`, the even lanes from `m`, the odd from `m_odd` (the odd lanes'
/// multipliers in the even dwords; `m` itself for a broadcast multiplier). The odd dwords move down
/// by `vpshufd`, never by a 64-bit shift: clang folds `mul_epi32(srli_epi64(x, 32), srli_epi64(m, 32))`
/// into a generic 64-bit multiply (three `vpmuludq` and fix-ups), which made the requantization rows
/// 8.2 ns per 8 values instead of 5.9 on Zen 1. The odd product shifted left by one puts bits 31..62 in
/// its high dword, the one the blend keeps.
static inline __m256i qc_high_mul8(__m256i x, __m256i m, __m256i m_odd) {
    const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << 30);
    __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), nudge), 31);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_shuffle_epi32(x, 0xF5), m_odd), nudge);
    odd = _mm256_slli_epi64(odd, 1);
    return _mm256_blend_epi32(even, odd, 0xAA);
}

/// RoundingDivideByPOT by per-lane `right` (0...31), ties away from zero; `mask` = 2^right - 1 and
/// `half` = mask >> 1 per lane.
static inline __m256i qc_rdbpot8(__m256i high, __m256i right, __m256i mask, __m256i half) {
    __m256i remainder = _mm256_and_si256(high, mask);
    __m256i threshold = _mm256_sub_epi32(half, _mm256_cmpgt_epi32(_mm256_setzero_si256(), high));
    return _mm256_sub_epi32(_mm256_srav_epi32(high, right), _mm256_cmpgt_epi32(remainder, threshold));
}

/// Eight lanes of `qc_requant_one` before the zero point and clamp.
static inline __m256i qc_requant8(__m256i x, __m256i m, __m256i shift, int profile) {
    const __m256i zero = _mm256_setzero_si256();
    __m256i m_odd = _mm256_shuffle_epi32(m, 0xF5);
    if (profile == 0) {
        __m256i left = _mm256_max_epi32(shift, zero);
        __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
        __m256i scaled = _mm256_sllv_epi32(x, left);
        __m256i high = qc_high_mul8(scaled, m, m_odd);
        const __m256i min32 = _mm256_set1_epi32(INT32_MIN);
        __m256i overflow = _mm256_and_si256(_mm256_cmpeq_epi32(scaled, min32), _mm256_cmpeq_epi32(m, min32));
        high = _mm256_blendv_epi8(high, _mm256_set1_epi32(INT32_MAX), overflow);
        __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right), _mm256_set1_epi32(1));
        return qc_rdbpot8(high, right, mask, _mm256_srai_epi32(mask, 1));
    } else {
        // total = 31 - shift (1...62) per 64-bit lane: even lanes from the low dwords, odd from the high.
        __m256i total = _mm256_sub_epi32(_mm256_set1_epi32(31), shift);
        __m256i total_even = _mm256_and_si256(total, _mm256_set1_epi64x(0xFFFFFFFF));
        __m256i total_odd = _mm256_srli_epi64(total, 32);
        const __m256i one = _mm256_set1_epi64x(1);
        __m256i pe = _mm256_mul_epi32(x, m);
        __m256i po = _mm256_mul_epi32(_mm256_shuffle_epi32(x, 0xF5), m_odd);
        pe = qc_srav_epi64(_mm256_add_epi64(pe, _mm256_sllv_epi64(one, _mm256_sub_epi64(total_even, one))), total_even);
        po = qc_srav_epi64(_mm256_add_epi64(po, _mm256_sllv_epi64(one, _mm256_sub_epi64(total_odd, one))), total_odd);
        return _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
    }
}

/// `qc_requant8` for one multiplier shared by all lanes (per-tensor ops): shifts by an immediate-style
/// count register instead of per-lane counts (fewer, cheaper instructions on Zen 1).
static inline __m256i qc_requant8_uniform(__m256i x, __m256i m, int32_t shift, int profile) {
    const __m256i zero = _mm256_setzero_si256();
    if (profile == 0) {
        int32_t left = shift > 0 ? shift : 0, right = shift < 0 ? -shift : 0;
        __m256i scaled = _mm256_sll_epi32(x, _mm_cvtsi32_si128(left));
        __m256i high = qc_high_mul8(scaled, m, m);
        if (_mm256_extract_epi32(m, 0) == INT32_MIN) {
            __m256i overflow = _mm256_cmpeq_epi32(scaled, _mm256_set1_epi32(INT32_MIN));
            high = _mm256_blendv_epi8(high, _mm256_set1_epi32(INT32_MAX), overflow);
        }
        if (right == 0) return high;
        int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
        __m256i remainder = _mm256_and_si256(high, _mm256_set1_epi32(mask));
        __m256i threshold = _mm256_sub_epi32(_mm256_set1_epi32(mask >> 1), _mm256_cmpgt_epi32(zero, high));
        return _mm256_sub_epi32(_mm256_sra_epi32(high, _mm_cvtsi32_si128(right)), _mm256_cmpgt_epi32(remainder, threshold));
    } else {
        int64_t total = 31 - (int64_t)shift;
        const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << (total - 1));
        const __m128i count = _mm_cvtsi32_si128((int)total);
        __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(x, m), nudge);
        __m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_shuffle_epi32(x, 0xF5), m), nudge);
        __m256i se = _mm256_cmpgt_epi64(zero, pe), so = _mm256_cmpgt_epi64(zero, po);
        pe = _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(pe, se), count), se);
        po = _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(po, so), count), so);
        return _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
    }
}

/// `qc_requant8` for the usual case, hoisted per group of eight channels: no lane shifts left
/// (`shift <= 0`) and no multiplier is INT32_MIN, so SaturatingRoundingDoublingHighMul cannot saturate
/// (`high` lies in INT32_MIN + 1 ... INT32_MAX). `right` = -shift, `mask` = 2^right - 1,
/// `half` = mask >> 1, `m_odd` = the multipliers of the odd lanes moved to the even dwords.
static inline __m256i qc_requant8_gemmlowp_plain(__m256i x, __m256i m, __m256i m_odd, __m256i right,
        __m256i mask, __m256i half) {
    return qc_rdbpot8(qc_high_mul8(x, m, m_odd), right, mask, half);
}

/// `qc_requant8` of the single profile with per-lane counts `total` = 31 - shift (1...62), hoisted:
/// `k` = 2^(total - 1) + 2^63 and `correction` = the low dword of 2^(63 - total), per 64-bit lane (even
/// lanes in `*_even`, odd lanes in `*_odd`). Adding 2^63 makes every sum non-negative as an unsigned
/// 64-bit value (|x * m| <= 2^62), so a logical shift gives the arithmetic one plus 2^(63 - total),
/// taken back out in the low 32 bits.
static inline __m256i qc_requant8_single_plain(__m256i x, __m256i m, __m256i m_odd, __m256i total_even, __m256i total_odd,
        __m256i k_even, __m256i k_odd, __m256i correction) {
    __m256i pe = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), k_even), total_even);
    __m256i po = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_shuffle_epi32(x, 0xF5), m_odd), k_odd), total_odd);
    return _mm256_sub_epi32(_mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA), correction);
}

/// The avx512 level's kind 4 (`qc_rq16_clamp_below`, whose comment holds the exactness argument) for
/// eight channels: gemmlowp, outputs clamped below at lo >= zout, every multiplier >= 0 and every right
/// shift r in 1...30 with (|zout| + 1) 2^(31+r) <= 2^61. Then SaturatingRoundingDoublingHighMul,
/// RoundingDivideByPOT and the zero point are one 64-bit step per lane, floor(N / 2^(31+r)) with
/// N = x m + 2^30 + 2^(r+30) + zout 2^(31+r) and |N| < 2^63, and no rounding correction. AVX2 has no
/// 64-bit arithmetic shift, so 2^63 is added too (a logical shift of N + 2^63 >= 0 is the arithmetic one
/// plus 2^(32-r) in the low 32 bits, taken back out): the even lanes shift by 31 + r and keep their low
/// dword, the odd ones by r - 1 and keep their high dword. Fills the constants and returns 1 when every
/// lane qualifies, else 0.
typedef struct {
    __m256i add_even, add_odd, shift_even, shift_odd, correction;
} qc_clamped8;

static inline int qc_clamped8_prepare(__m256i m, __m256i shift, int32_t zout, int32_t lo, qc_clamped8 *k) {
    if (lo < zout) return 0;
    const int64_t z1 = (zout < 0 ? -(int64_t)zout : (int64_t)zout) + 1;
    if (z1 > (int64_t)1 << 29) return 0;  // (|z| + 1) <= 2^(30 - r) with r >= 1
    const __m256i zero = _mm256_setzero_si256(), one32 = _mm256_set1_epi32(1);
    const __m256i r = _mm256_sub_epi32(zero, shift);
    // Every lane: m >= 0, 1 <= r <= 30, |z| + 1 <= 2^(30 - r).
    __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(zero, m), _mm256_cmpgt_epi32(one32, r));
    bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(r, _mm256_set1_epi32(30)));
    const __m256i limit = _mm256_sllv_epi32(one32, _mm256_sub_epi32(_mm256_set1_epi32(30), r));
    bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)z1), limit));
    if (!_mm256_testz_si256(bad, bad)) return 0;
    const __m256i r_even = _mm256_and_si256(r, _mm256_set1_epi64x(0xFFFFFFFF)), r_odd = _mm256_srli_epi64(r, 32);
    const __m256i one = _mm256_set1_epi64x(1), thirty = _mm256_set1_epi64x(30), thirty_one = _mm256_set1_epi64x(31);
    const __m256i base = _mm256_set1_epi64x((int64_t)(((uint64_t)1 << 30) + ((uint64_t)1 << 63)));
    const __m256i vz = _mm256_set1_epi64x(zout);
    k->shift_even = _mm256_add_epi64(r_even, thirty_one);
    k->shift_odd = _mm256_sub_epi64(r_odd, one);
    k->add_even = _mm256_add_epi64(_mm256_add_epi64(base, _mm256_sllv_epi64(one, _mm256_add_epi64(r_even, thirty))),
                                   _mm256_sllv_epi64(vz, k->shift_even));
    k->add_odd = _mm256_add_epi64(_mm256_add_epi64(base, _mm256_sllv_epi64(one, _mm256_add_epi64(r_odd, thirty))),
                                  _mm256_sllv_epi64(vz, _mm256_add_epi64(r_odd, thirty_one)));
    k->correction = _mm256_sllv_epi32(one32, _mm256_sub_epi32(_mm256_set1_epi32(32), r));
    return 1;
}

void qc_requant_rows_avx2(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t channels,
        const int32_t *bias, const int32_t *mult, const int32_t *shift,
        int32_t zout, int32_t lo, int32_t hi, int32_t *out, ptrdiff_t out_stride,
        int profile) {
    ptrdiff_t j0 = 0;
    const __m256i vz = _mm256_set1_epi32(zout), vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    for (; j0 + 8 <= channels; j0 += 8) {
        __m256i vb = _mm256_loadu_si256((const __m256i *)(bias + j0));
        __m256i vm = _mm256_loadu_si256((const __m256i *)(mult + j0));
        __m256i vs = _mm256_loadu_si256((const __m256i *)(shift + j0));
        __m256i m_odd = _mm256_shuffle_epi32(vm, 0xF5);
        if (profile == 1) {
            // Single rounding: every multiplier and shift in -31...30 is plain (|x * m| <= 2^62).
            __m256i total = _mm256_sub_epi32(_mm256_set1_epi32(31), vs);
            __m256i total_even = _mm256_and_si256(total, _mm256_set1_epi64x(0xFFFFFFFF));
            __m256i total_odd = _mm256_srli_epi64(total, 32);
            const __m256i one = _mm256_set1_epi64x(1), top = _mm256_set1_epi64x(INT64_MIN);
            __m256i k_even = _mm256_add_epi64(_mm256_sllv_epi64(one, _mm256_sub_epi64(total_even, one)), top);
            __m256i k_odd = _mm256_add_epi64(_mm256_sllv_epi64(one, _mm256_sub_epi64(total_odd, one)), top);
            // 2^(63 - total): a shift by 32 or more gives 0, which is the low dword of 2^(63 - total) then.
            __m256i correction = _mm256_sllv_epi32(_mm256_set1_epi32(1), _mm256_sub_epi32(_mm256_set1_epi32(63), total));
            for (ptrdiff_t r = 0; r < rows; r++) {
                __m256i x = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(c + r * ldc + j0)), vb);
                __m256i y = _mm256_add_epi32(qc_requant8_single_plain(x, vm, m_odd, total_even, total_odd, k_even, k_odd, correction), vz);
                y = _mm256_min_epi32(_mm256_max_epi32(y, vlo), vhi);
                _mm256_storeu_si256((__m256i *)(out + r * out_stride + j0), y);
            }
            continue;
        }
        const __m256i zero = _mm256_setzero_si256(), min32 = _mm256_set1_epi32(INT32_MIN);
        __m256i unusual = _mm256_or_si256(_mm256_cmpgt_epi32(vs, zero), _mm256_cmpeq_epi32(vm, min32));
        qc_clamped8 k;
        if (_mm256_testz_si256(unusual, unusual) && qc_clamped8_prepare(vm, vs, zout, lo, &k)) {
            for (ptrdiff_t r = 0; r < rows; r++) {
                __m256i x = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(c + r * ldc + j0)), vb);
                __m256i pe = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, vm), k.add_even), k.shift_even);
                __m256i po = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_shuffle_epi32(x, 0xF5), m_odd), k.add_odd),
                                               k.shift_odd);
                __m256i y = _mm256_sub_epi32(_mm256_blend_epi32(pe, po, 0xAA), k.correction);
                y = _mm256_min_epi32(_mm256_max_epi32(y, vlo), vhi);
                _mm256_storeu_si256((__m256i *)(out + r * out_stride + j0), y);
            }
            continue;
        }
        if (_mm256_testz_si256(unusual, unusual)) {
            __m256i right = _mm256_sub_epi32(zero, vs);
            __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right), _mm256_set1_epi32(1));
            __m256i half = _mm256_srai_epi32(mask, 1);
            for (ptrdiff_t r = 0; r < rows; r++) {
                __m256i x = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(c + r * ldc + j0)), vb);
                __m256i y = _mm256_add_epi32(qc_requant8_gemmlowp_plain(x, vm, m_odd, right, mask, half), vz);
                y = _mm256_min_epi32(_mm256_max_epi32(y, vlo), vhi);
                _mm256_storeu_si256((__m256i *)(out + r * out_stride + j0), y);
            }
            continue;
        }
        for (ptrdiff_t r = 0; r < rows; r++) {
            __m256i x = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(c + r * ldc + j0)), vb);
            __m256i y = _mm256_add_epi32(qc_requant8(x, vm, vs, profile), vz);
            y = _mm256_min_epi32(_mm256_max_epi32(y, vlo), vhi);
            _mm256_storeu_si256((__m256i *)(out + r * out_stride + j0), y);
        }
    }
    qc_requant_rows_tail(c, ldc, rows, j0, channels, bias, mult, shift, zout, lo, hi, out, out_stride, profile);
}

void qc_requant_flat_avx2(const int32_t *x, ptrdiff_t n, int32_t m, int32_t shift, int32_t zout,
        int32_t lo, int32_t hi, int32_t *out, int profile) {
    ptrdiff_t i = 0;
    const __m256i vm = _mm256_set1_epi32(m), vz = _mm256_set1_epi32(zout);
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    for (; i + 8 <= n; i += 8) {
        __m256i y = _mm256_add_epi32(qc_requant8_uniform(_mm256_loadu_si256((const __m256i *)(x + i)), vm, shift, profile), vz);
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_min_epi32(_mm256_max_epi32(y, vlo), vhi));
    }
    qc_requant_flat_tail(x, i, n, m, shift, zout, lo, hi, out, profile);
}

void qc_rescale_accumulate_avx2(const int32_t *x, ptrdiff_t n, int32_t z, int32_t left, int32_t m,
        int32_t shift, int32_t sign, int32_t *acc, int accumulate, int profile) {
    ptrdiff_t i = 0;
    const __m256i vz = _mm256_set1_epi32(z), vm = _mm256_set1_epi32(m);
    const __m128i vl = _mm_cvtsi32_si128(left);
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_sll_epi32(_mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(x + i)), vz), vl);
        v = qc_requant8_uniform(v, vm, shift, profile);
        // sign is +1 or -1: subtracting wraps exactly as adding sign * v does.
        __m256i base = accumulate ? _mm256_loadu_si256((const __m256i *)(acc + i)) : _mm256_setzero_si256();
        v = sign < 0 ? _mm256_sub_epi32(base, v) : _mm256_add_epi32(base, v);
        _mm256_storeu_si256((__m256i *)(acc + i), v);
    }
    qc_rescale_accumulate_tail(x, i, n, z, left, m, shift, sign, acc, accumulate, profile);
}

/// `qc_add2_requant` in one pass, eight values at a time: each input's term as `qc_rescale_accumulate_avx2`
/// makes it, their signed sum (wrapping), then `qc_requant_flat_avx2`'s steps, so the same integers as
/// those three kernels over blocks (`qc_add2_requant_blocks`, which also takes the last n % 8 values).
/// An input whose multiplier is exactly 1/2 (2^30, shift 0, left >= 1) takes `v >> 1` of the even
/// `v = (x - z) << left`, as at the avx512 levels (int8_avx512.c gives the argument).
void qc_add2_requant_avx2(const int32_t *x0, const int32_t *x1, ptrdiff_t n, int32_t z0, int32_t z1, int32_t left,
        int32_t m0, int32_t s0, int32_t m1, int32_t s1, int32_t sign0, int32_t sign1, int32_t m, int32_t shift,
        int32_t zout, int32_t lo, int32_t hi, int32_t *out, int profile) {
    const int half0 = m0 == (1 << 30) && s0 == 0 && left >= 1, half1 = m1 == (1 << 30) && s1 == 0 && left >= 1;
    const __m256i vz0 = _mm256_set1_epi32(z0), vz1 = _mm256_set1_epi32(z1), vz = _mm256_set1_epi32(zout);
    const __m256i vm0 = _mm256_set1_epi32(m0), vm1 = _mm256_set1_epi32(m1), vm = _mm256_set1_epi32(m);
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    const __m128i vl = _mm_cvtsi32_si128(left);
    ptrdiff_t i = 0;
    // One loop per pair of term forms (literal flags), so neither test stays in the loop body.
#define QC_ADD2_TERM(x, vzi, vmi, si, h)                                                                         \
    ((h) ? _mm256_srai_epi32(_mm256_sll_epi32(_mm256_sub_epi32(x, vzi), vl), 1)                                 \
         : qc_requant8_uniform(_mm256_sll_epi32(_mm256_sub_epi32(x, vzi), vl), vmi, si, profile))
#define QC_ADD2_LOOP(h0, h1)                                                                                     \
    for (; i + 8 <= n; i += 8) {                                                                                 \
        __m256i v0 = QC_ADD2_TERM(_mm256_loadu_si256((const __m256i *)(x0 + i)), vz0, vm0, s0, h0);            \
        __m256i v1 = QC_ADD2_TERM(_mm256_loadu_si256((const __m256i *)(x1 + i)), vz1, vm1, s1, h1);            \
        __m256i sum = sign0 < 0 ? _mm256_sub_epi32(_mm256_setzero_si256(), v0) : v0;                            \
        sum = sign1 < 0 ? _mm256_sub_epi32(sum, v1) : _mm256_add_epi32(sum, v1);                                \
        __m256i y = _mm256_add_epi32(qc_requant8_uniform(sum, vm, shift, profile), vz);                         \
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_min_epi32(_mm256_max_epi32(y, vlo), vhi));             \
    }
    if (half0 && half1) QC_ADD2_LOOP(1, 1)
    else if (half0) QC_ADD2_LOOP(1, 0)
    else if (half1) QC_ADD2_LOOP(0, 1)
    else QC_ADD2_LOOP(0, 0)
#undef QC_ADD2_LOOP
#undef QC_ADD2_TERM
    if (i < n) {
        qc_add2_requant_blocks(qc_kernels_for(QC_ISA_AVX2), x0 + i, x1 + i, n - i, z0, z1, left, m0, s0, m1, s1, sign0,
                               sign1, m, shift, zout, lo, hi, out + i, profile);
    }
}

/// `vpmulld` keeps the low 32 bits of each product and `vpaddd` wraps: the same integers as the scalar
/// level's uint32 arithmetic for any int32 inputs.
/// 8 channels per YMM held over the window, the last block through `vpmaskmovd`.
void qc_maxpool_row_i32_avx2(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
        ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
        ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t empty, int32_t *out) {
    ptrdiff_t ylo, yhi;
    qc_pool_span(out_y * stride_h - pad_top, kernel_h, in_h, &ylo, &yhi);
    const __m256i vempty = _mm256_set1_epi32(empty), vmin = _mm256_set1_epi32(INT32_MIN);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t xlo, xhi;
        qc_pool_span(ox * stride_w - pad_left, kernel_w, in_w, &xlo, &xhi);
        int32_t *dst = out + ox * channels;
        const int none = ylo >= yhi || xlo >= xhi;
        for (ptrdiff_t c = 0; c < channels; c += 8) {
            const ptrdiff_t left = channels - c;
            const __m256i k = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(left < 8 ? left : 8)), lane);
            __m256i m = none ? vempty : vmin;
            for (ptrdiff_t y = ylo; y < yhi && !none; y++) {
                const int32_t *src = sample + (y * in_w + xlo) * channels + c;
                for (ptrdiff_t x = xlo; x < xhi; x++, src += channels) {
                    __m256i v = left >= 8 ? _mm256_loadu_si256((const __m256i *)src) : _mm256_maskload_epi32(src, k);
                    m = _mm256_max_epi32(m, v);
                }
            }
            if (left >= 8) _mm256_storeu_si256((__m256i *)(dst + c), m); else _mm256_maskstore_epi32(dst + c, k, m);
        }
    }
}

/// Table lookups: the scalar loop (`vpgatherdd` on the AVX2 parts this level serves, Zen 1-3, is no
/// faster than one load per lane).
void qc_lookup_i32_avx2(const int32_t *x, ptrdiff_t n, ptrdiff_t channels, const int32_t *table, ptrdiff_t levels,
        int32_t offset, int32_t *out) {
    qc_lookup_i32_scalar(x, n, channels, table, levels, offset, out);
}

/// The average pool row: the scalar level's loop.
void qc_avgpool_row_i32_avx2(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
        ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
        ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, const uint64_t *magic, const uint64_t *shift,
        int32_t empty, int32_t lo, int32_t hi, int32_t *out) {
    qc_avgpool_row_i32_scalar(sample, in_h, in_w, channels, kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left,
                              out_y, out_w, magic, shift, empty, lo, hi, out);
}

/// `x - offset` to bytes, 8 at a time: the low byte of each lane gathered by a shuffle and a permute.
void qc_offset_u8_avx2(const int32_t *x, ptrdiff_t n, int32_t offset, uint8_t *out) {
    const __m256i voffset = _mm256_set1_epi32(offset);
    const __m256i low = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                         0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i gather = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_shuffle_epi8(_mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(x + i)), voffset), low);
        v = _mm256_permutevar8x32_epi32(v, gather);
        _mm_storel_epi64((__m128i *)(out + i), _mm256_castsi256_si128(v));
    }
    for (; i < n; i++) out[i] = (uint8_t)(uint32_t)(x[i] - offset);
}

void qc_depthwise_row_i32_avx2(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                               const int32_t *weights, int32_t zin, ptrdiff_t kernel_h, ptrdiff_t kernel_w,
                               ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w,
                               ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc) {
    ptrdiff_t origin_y = out_y * stride_h - pad_top, ky0, ky1;
    qc_dw_tap_range(origin_y, kernel_h, dilation_h, in_h, &ky0, &ky1);
    const __m256i vz = _mm256_set1_epi32(zin);
    const ptrdiff_t row = in_w * channels;
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t origin_x = ox * stride_w - pad_left, kx0, kx1;
        qc_dw_tap_range(origin_x, kernel_w, dilation_w, in_w, &kx0, &kx1);
        int32_t *a = acc + ox * channels;
        // Offset of tap (ky0, kx0); taps outside the image are never formed as pointers.
        const ptrdiff_t base = (origin_y + ky0 * dilation_h) * row + (origin_x + kx0 * dilation_w) * channels;
        const int32_t *w0 = weights + (ky0 * kernel_w + kx0) * channels;
        const ptrdiff_t taps_y = ky1 - ky0, taps_x = kx1 - kx0;
        ptrdiff_t c = 0;
        for (; c + 16 <= channels; c += 16) {
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
            for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
                for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                    const int32_t *x = sample + (base + ky * dilation_h * row + kx * dilation_w * channels + c);
                    const int32_t *w = w0 + (ky * kernel_w + kx) * channels + c;
                    s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(_mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)x), vz),
                                                                 _mm256_loadu_si256((const __m256i *)w)));
                    s1 = _mm256_add_epi32(s1, _mm256_mullo_epi32(_mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(x + 8)), vz),
                                                                 _mm256_loadu_si256((const __m256i *)(w + 8))));
                }
            }
            _mm256_storeu_si256((__m256i *)(a + c), s0);
            _mm256_storeu_si256((__m256i *)(a + c + 8), s1);
        }
        for (; c + 8 <= channels; c += 8) {
            __m256i s0 = _mm256_setzero_si256();
            for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
                for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                    const int32_t *x = sample + (base + ky * dilation_h * row + kx * dilation_w * channels + c);
                    const int32_t *w = w0 + (ky * kernel_w + kx) * channels + c;
                    s0 = _mm256_add_epi32(s0, _mm256_mullo_epi32(_mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)x), vz),
                                                                 _mm256_loadu_si256((const __m256i *)w)));
                }
            }
            _mm256_storeu_si256((__m256i *)(a + c), s0);
        }
        for (; c < channels; c++) {
            uint32_t sum = 0;
            for (ptrdiff_t ky = 0; ky < taps_y; ky++) {
                for (ptrdiff_t kx = 0; kx < taps_x; kx++) {
                    sum += ((uint32_t)sample[base + ky * dilation_h * row + kx * dilation_w * channels + c] - (uint32_t)zin) *
                           (uint32_t)w0[(ky * kernel_w + kx) * channels + c];
                }
            }
            a[c] = (int32_t)sum;
        }
    }
}

static inline void qc_store256(void *p, __m256i v) { _mm256_storeu_si256((__m256i *)p, v); }

/// The level's int8 peak probe: twelve independent chains of its densest multiply-add, `vpmaddubsw`
/// (32 u8 x s8 products, summed in int16 pairs) added in int16 (`vpaddw`), the inner step of the
/// int16-chunked u8 kernel; each step reads its own chain so nothing is hoisted. Two `vpmaddubsw` per
/// cycle on Zen 3 / Zen 4 make it 128 integer operations per cycle.
int64_t qc_int8_probe_avx2(ptrdiff_t iterations, int64_t seed, int64_t *ops) {
    QC_PROBE_BODY(__m256i, _mm256_set1_epi8((char)(seed & 0x3f)), _mm256_set1_epi16, _mm256_maddubs_epi16,
                  _mm256_add_epi16, qc_store256, int16_t, 16, 32)
}

/// The s16 path's peak probe: twelve independent chains of `vpmaddwd` (16 int16 x int16 products, summed
/// in int32 pairs) added by `vpaddd`, the s16 micro-kernel's inner step. AVX2 has no exact multiply-add
/// of u8 x s8 with 8-bit weights into int32 other than this one (`vpmaddubsw` saturates its pair sums
/// past |w| = 64), so it bounds the 8-bit-weight GEMM: half `vpmaddubsw`'s products per instruction.
int64_t qc_int8_probe_s16_avx2(ptrdiff_t iterations, int64_t seed, int64_t *ops) {
    QC_PROBE_BODY(__m256i, _mm256_set1_epi16((short)(seed & 0x7f)), _mm256_set1_epi32, _mm256_madd_epi16,
                  _mm256_add_epi32, qc_store256, int32_t, 8, 16)
}

// ---- The graph input's quantization (qc_quantize_edge_f32) --------------------------------------------

/// `qc_quantize_edge_one` 8 lanes at a time (`vmaxps` / `vminps` return their second operand for a NaN
/// or an equal pair, as the scalar selects do); the tail takes the scalar steps.
void qc_quantize_edge_f32_avx2(const float *x, ptrdiff_t n, float scale, int32_t zero, float below, float above,
        int32_t *q) {
    const __m256 vs = _mm256_set1_ps(scale), vb = _mm256_set1_ps(below), va = _mm256_set1_ps(above);
    const __m256 t23 = _mm256_set1_ps(8388608.0f), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 zf = _mm256_set1_ps((float)zero), magic = _mm256_set1_ps(12582912.0f);
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32(INT32_MIN));
    const __m256i vz = _mm256_set1_epi32(zero), bias = _mm256_set1_epi32(0x4B400000);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 quotient = _mm256_div_ps(_mm256_loadu_ps(x + i), vs);
        const __m256 y = _mm256_min_ps(_mm256_max_ps(quotient, vb), va);
        const __m256 a = _mm256_andnot_ps(sign, y);
        const __m256 even = _mm256_sub_ps(_mm256_add_ps(a, t23), t23);
        const __m256 tie = _mm256_cmp_ps(_mm256_sub_ps(a, even), half, _CMP_EQ_OQ);
        const __m256 away = _mm256_add_ps(even, _mm256_and_ps(tie, one));
        const __m256 value = _mm256_add_ps(_mm256_or_ps(away, _mm256_and_ps(y, sign)), zf);
        __m256i r = _mm256_sub_epi32(_mm256_castps_si256(_mm256_add_ps(value, magic)), bias);
        const __m256i nan = _mm256_castps_si256(_mm256_cmp_ps(quotient, quotient, _CMP_UNORD_Q));
        _mm256_storeu_si256((__m256i *)(q + i), _mm256_blendv_epi8(r, vz, nan));
    }
    for (; i < n; i++) q[i] = qc_quantize_edge_one(x[i], scale, zero, below, above);
}

// ---- 3x3 depthwise from an image of int16 pairs (qc_dw3x3_pairs_*) -----------------------------------

/// Lanes `0 ..< n` (n <= 8) as a `vpmaskmovd` mask.
static inline __m256i qc_lanes8(ptrdiff_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// `qc_dw3x3_pairs_line_avx512` 8 dwords at a time (`vpblendw` per 128-bit lane, `vpmaskmovd` for
/// partial blocks).
static void qc_dw3x3_pairs_line_avx2(const int32_t *src, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin, int first_edge,
        int32_t *pixel) {
    const __m256i vz = _mm256_set1_epi32(zin), zz = _mm256_set1_epi16((short)zin), low = _mm256_set1_epi32(0xFFFF);
    const ptrdiff_t interior = (in_w - 1) * channels;
    if (first_edge) {  // (padding, first pixel)
        for (ptrdiff_t c = 0; c < channels; c += 8) {
            const __m256i k = qc_lanes8(channels - c);
            __m256i v = _mm256_sub_epi32(_mm256_maskload_epi32(src + c, k), vz);
            _mm256_maskstore_epi32(pixel + c, k, _mm256_slli_epi32(v, 16));
        }
        pixel += channels;
    }
    ptrdiff_t j = 0;
    for (; j + 8 <= interior; j += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(src + j));
        __m256i b = _mm256_loadu_si256((const __m256i *)(src + j + channels));
        _mm256_storeu_si256((__m256i *)(pixel + j), _mm256_sub_epi16(_mm256_blend_epi16(a, _mm256_slli_epi32(b, 16), 0xAA), zz));
    }
    if (j < interior) {
        const __m256i k = qc_lanes8(interior - j);
        __m256i a = _mm256_maskload_epi32(src + j, k), b = _mm256_maskload_epi32(src + j + channels, k);
        _mm256_maskstore_epi32(pixel + j, k, _mm256_sub_epi16(_mm256_blend_epi16(a, _mm256_slli_epi32(b, 16), 0xAA), zz));
    }
    for (ptrdiff_t c = 0; c < channels; c += 8) {  // (last pixel, padding)
        const __m256i k = qc_lanes8(channels - c);
        __m256i v = _mm256_sub_epi32(_mm256_maskload_epi32(src + interior + c, k), vz);
        _mm256_maskstore_epi32(pixel + interior + c, k, _mm256_and_si256(v, low));
    }
}

void qc_dw3x3_pairs_build_avx2(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin,
        ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t height, ptrdiff_t width, int32_t *pairs) {
    qc_dw3x3_pairs_build_rows(qc_dw3x3_pairs_line_avx2, sample, in_h, in_w, channels, zin, pad_top, pad_left, height, width,
                              pairs);
}

/// The row kernel 8 channels at a time, `vpmaddwd` + `vpaddd` per pair of taps (6 pairs per pixel, two
/// chains); a last block of fewer than 8 channels through `vpmaskmovd`.
void qc_dw3x3_pairs_row_avx2(const int32_t *pairs, ptrdiff_t width, ptrdiff_t channels, const int32_t *wpairs,
        ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc) {
    const ptrdiff_t line = width * channels, top = out_y * stride_h * line;
    for (ptrdiff_t c = 0; c < channels; c += 8) {
        const int whole = channels - c >= 8;
        const __m256i k = qc_lanes8(channels - c);
        __m256i w[6];
        for (int i = 0; i < 6; i++) w[i] = _mm256_maskload_epi32(wpairs + i * channels + c, k);
#define QC_DW_PAIR(s, offset) s = _mm256_add_epi32(s, _mm256_madd_epi16(QC_DW_LOAD(p + (offset)), w[i++]))
#define QC_DW_PIXELS                                                                                             \
        for (ptrdiff_t ox = 0; ox < out_w; ox++) {                                                               \
            const int32_t *p = pairs + top + ox * stride_w * channels + c;                                       \
            __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();                                    \
            int i = 0;                                                                                           \
            QC_DW_PAIR(s0, 0); QC_DW_PAIR(s1, 2 * channels);                                                     \
            QC_DW_PAIR(s0, line); QC_DW_PAIR(s1, line + 2 * channels);                                           \
            QC_DW_PAIR(s0, 2 * line); QC_DW_PAIR(s1, 2 * line + 2 * channels);                                   \
            QC_DW_STORE(acc + ox * channels + c, _mm256_add_epi32(s0, s1));                                      \
        }
        if (whole) {
#define QC_DW_LOAD(ptr) _mm256_loadu_si256((const __m256i *)(ptr))
#define QC_DW_STORE(ptr, v) _mm256_storeu_si256((__m256i *)(ptr), v)
            QC_DW_PIXELS
#undef QC_DW_LOAD
#undef QC_DW_STORE
        } else {
#define QC_DW_LOAD(ptr) _mm256_maskload_epi32(ptr, k)
#define QC_DW_STORE(ptr, v) _mm256_maskstore_epi32(ptr, k, v)
            QC_DW_PIXELS
#undef QC_DW_LOAD
#undef QC_DW_STORE
        }
#undef QC_DW_PIXELS
#undef QC_DW_PAIR
    }
}

#pragma clang attribute pop
#endif
