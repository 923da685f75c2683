// Integer GEMM micro-kernels for the simulator: a 4 x 16 tile of int32 accumulators over K.
//
// Swift cannot ask for `vpmaddwd` / `vpmaddubsw`, so the innermost loops live here as `static inline`
// C functions (they import into Swift and inline there). Each has an AVX2 body and a portable scalar
// fallback that computes the same integers; the Swift side tests both against its scalar reference.
//
// Packed layouts (prepared once by the Swift packer, `Kernels/PackedGEMMWeights.swift`):
//   s16: A rows of int16 (x - zin), K padded to a multiple of 2; a B panel holds 16 output channels,
//        per K pair 32 int16: channels 0-7 as (w[2p], w[2p+1]) pairs, then channels 8-15.
//        `vpmaddwd` is exact for the full int16 range here: |a| <= 255, |w| <= 128.
//   u8:  A rows of uint8 (x - typeMin), K padded to a multiple of 4; per K quad 64 int8: channels 0-7
//        as 4 consecutive weights each, then channels 8-15. `vpmaddubsw` adds two u8 x s8 products in
//        int16 with saturation: exact only while 2 * 255 * |w| <= 32767, i.e. |w| <= 64 (<= 7-bit weights).
#ifndef CINT8KERNELS_H
#define CINT8KERNELS_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

/// 1 when this header was compiled with AVX2 (the fast bodies), 0 for the portable fallback.
static inline int qc_int8_kernels_have_avx2(void) {
#if defined(__AVX2__)
    return 1;
#else
    return 0;
#endif
}

static inline int32_t qc_load_i32(const void *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// c[r * ldc + n] (+)= sum over pairs p < kpairs of a[r * lda + 2p + j] * w[n][2p + j], r < 4, n < 16.
/// `a` int16 rows (lda elements apart), `b` the panel at pair 0, `accumulate` 0 = overwrite.
static inline void qc_gemm_s16_4x16(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs,
                                    int32_t *c, ptrdiff_t ldc, int accumulate) {
#if defined(__AVX2__)
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
#else
    for (int r = 0; r < 4; r++) {
        for (int n = 0; n < 16; n++) {
            uint32_t sum = accumulate ? (uint32_t)c[r * ldc + n] : 0u;
            const int16_t *w = b + (n < 8 ? 2 * n : 16 + 2 * (n - 8));
            for (ptrdiff_t p = 0; p < kpairs; p++) {
                int32_t pair = (int32_t)a[r * lda + 2 * p] * w[32 * p] + (int32_t)a[r * lda + 2 * p + 1] * w[32 * p + 1];
                sum += (uint32_t)pair;  // wraps like vpaddd
            }
            c[r * ldc + n] = (int32_t)sum;
        }
    }
#endif
}

/// `qc_gemm_s16_4x16` for a panel whose channels 8...15 are all zero (8 or fewer output channels): the
/// same layout, only channels 0...7 computed and written (c[r * ldc + 8 ...] is not touched), half the
/// multiplies.
static inline void qc_gemm_s16_4x8(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs,
                                   int32_t *c, ptrdiff_t ldc, int accumulate) {
#if defined(__AVX2__)
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
#else
    for (int r = 0; r < 4; r++) {
        for (int n = 0; n < 8; n++) {
            uint32_t sum = accumulate ? (uint32_t)c[r * ldc + n] : 0u;
            const int16_t *w = b + 2 * n;
            for (ptrdiff_t p = 0; p < kpairs; p++) {
                int32_t pair = (int32_t)a[r * lda + 2 * p] * w[32 * p] + (int32_t)a[r * lda + 2 * p + 1] * w[32 * p + 1];
                sum += (uint32_t)pair;  // wraps like vpaddd
            }
            c[r * ldc + n] = (int32_t)sum;
        }
    }
#endif
}

/// c[r * ldc + n] (+)= sum over quads q < kquads of a[r * lda + 4q + j] * w[n][4q + j], r < 4, n < 16;
/// `a` uint8 rows, `b` int8 panel. Exact only for |w| <= 64 (see the header comment).
static inline void qc_gemm_u8s8_4x16(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads,
                                     int32_t *c, ptrdiff_t ldc, int accumulate) {
#if defined(__AVX2__)
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
    const uint8_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    for (ptrdiff_t q = 0; q < kquads; q++) {
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
    _mm256_storeu_si256((__m256i *)(c + 0 * ldc), c00); _mm256_storeu_si256((__m256i *)(c + 0 * ldc + 8), c01);
    _mm256_storeu_si256((__m256i *)(c + 1 * ldc), c10); _mm256_storeu_si256((__m256i *)(c + 1 * ldc + 8), c11);
    _mm256_storeu_si256((__m256i *)(c + 2 * ldc), c20); _mm256_storeu_si256((__m256i *)(c + 2 * ldc + 8), c21);
    _mm256_storeu_si256((__m256i *)(c + 3 * ldc), c30); _mm256_storeu_si256((__m256i *)(c + 3 * ldc + 8), c31);
#else
    for (int r = 0; r < 4; r++) {
        for (int n = 0; n < 16; n++) {
            uint32_t sum = accumulate ? (uint32_t)c[r * ldc + n] : 0u;
            const int8_t *w = b + (n < 8 ? 4 * n : 32 + 4 * (n - 8));
            for (ptrdiff_t q = 0; q < kquads; q++) {
                for (int j = 0; j < 4; j++) {
                    sum += (uint32_t)((int32_t)a[r * lda + 4 * q + j] * w[64 * q + j]);
                }
            }
            c[r * ldc + n] = (int32_t)sum;
        }
    }
#endif
}

/// `qc_gemm_u8s8_4x16` for small weights: the `vpmaddubsw` pair sums are added in int16 over runs of
/// `chunk` quads and widened to int32 once per run, half the multiply instructions per quad. Exact
/// (equal to `qc_gemm_u8s8_4x16`) while chunk * 2 * 255 * max|w| <= 32767: the caller derives `chunk`
/// from the panel's largest weight (4-bit weights, |w| <= 7: chunk 9).
static inline void qc_gemm_u8s8_4x16_i16(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads,
                                         int32_t *c, ptrdiff_t ldc, int accumulate, ptrdiff_t chunk) {
#if defined(__AVX2__)
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
#else
    (void)chunk;
    qc_gemm_u8s8_4x16(a, lda, b, kquads, c, ldc, accumulate);
#endif
}


// ---------------------------------------------------------------------------------------------------
// Per-channel requantization of GEMM rows (docs/numerics.md; `RoundingProfile.multiply` is the
// reference, tested lane for lane):
//   out[r * out_stride + j] = clamp(multiply(c[r * ldc + j] + bias[j], mult[j], shift[j]) + zout, lo, hi)
// profile 0 = gemmlowp:  x << max(shift, 0), SaturatingRoundingDoublingHighMul by mult, then
//                        RoundingDivideByPOT by max(-shift, 0) (ties away from zero);
// profile 1 = single:    (x * mult + 2^(30 - shift)) >> (31 - shift), arithmetic, 64-bit.
// All int32 adds wrap. shift must be in -31...30.

static inline int32_t qc_requant_one(int32_t x, int32_t m, int32_t shift, int profile) {
    if (profile == 0) {
        int32_t left = shift > 0 ? shift : 0, right = shift < 0 ? -shift : 0;
        int32_t scaled = (int32_t)((uint32_t)x << left);
        int32_t high;
        if (scaled == INT32_MIN && m == INT32_MIN) {
            high = INT32_MAX;
        } else {
            int64_t p = (int64_t)scaled * (int64_t)m;
            high = (int32_t)((p + ((int64_t)1 << 30)) >> 31);
        }
        int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
        int32_t remainder = high & mask;
        int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
        return (high >> right) + (remainder > threshold ? 1 : 0);
    } else {
        int64_t total = 31 - (int64_t)shift;
        int64_t p = (int64_t)x * (int64_t)m;
        return (int32_t)((p + ((int64_t)1 << (total - 1))) >> total);
    }
}

#if defined(__AVX2__)
/// Arithmetic right shift of 64-bit lanes by per-lane counts 0...63 (AVX2 has only the logical one).
static inline __m256i qc_srav_epi64(__m256i v, __m256i count) {
    __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
    return _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), count), sign);
}

/// SaturatingRoundingDoublingHighMul without its saturating case (both operands INT32_MIN), eight
/// lanes: bits 31..62 of `x * m + 2^30`, the even lanes from `m`, the odd from `m_odd` (the odd lanes'
/// multipliers in the even dwords; `m` itself for a broadcast multiplier).
static inline __m256i qc_high_mul8(__m256i x, __m256i m, __m256i m_odd) {
    const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << 30);
    __m256i even = _mm256_srli_epi64(_mm256_add_epi64(_mm256_mul_epi32(x, m), nudge), 31);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), m_odd), nudge);
    odd = _mm256_slli_epi64(_mm256_srli_epi64(odd, 31), 32);
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
    __m256i m_odd = _mm256_srli_epi64(m, 32);
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
        __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), m_odd);
        pe = qc_srav_epi64(_mm256_add_epi64(pe, _mm256_sllv_epi64(one, _mm256_sub_epi64(total_even, one))), total_even);
        po = qc_srav_epi64(_mm256_add_epi64(po, _mm256_sllv_epi64(one, _mm256_sub_epi64(total_odd, one))), total_odd);
        return _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
    }
}
#endif

#if defined(__AVX2__)
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
        __m256i po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), m), nudge);
        __m256i se = _mm256_cmpgt_epi64(zero, pe), so = _mm256_cmpgt_epi64(zero, po);
        pe = _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(pe, se), count), se);
        po = _mm256_xor_si256(_mm256_srl_epi64(_mm256_xor_si256(po, so), count), so);
        return _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
    }
}
#endif

#if defined(__AVX2__)
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
    __m256i po = _mm256_srlv_epi64(_mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), m_odd), k_odd), total_odd);
    return _mm256_sub_epi32(_mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA), correction);
}
#endif

static inline void qc_requant_rows(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t channels,
                                   const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                   int32_t zout, int32_t lo, int32_t hi, int32_t *out, ptrdiff_t out_stride,
                                   int profile) {
    ptrdiff_t j0 = 0;
#if defined(__AVX2__)
    const __m256i vz = _mm256_set1_epi32(zout), vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    for (; j0 + 8 <= channels; j0 += 8) {
        __m256i vb = _mm256_loadu_si256((const __m256i *)(bias + j0));
        __m256i vm = _mm256_loadu_si256((const __m256i *)(mult + j0));
        __m256i vs = _mm256_loadu_si256((const __m256i *)(shift + j0));
        __m256i m_odd = _mm256_srli_epi64(vm, 32);
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
#endif
    for (ptrdiff_t r = 0; r < rows; r++) {
        for (ptrdiff_t j = j0; j < channels; j++) {
            int32_t x = (int32_t)((uint32_t)c[r * ldc + j] + (uint32_t)bias[j]);
            int32_t y = (int32_t)((uint32_t)qc_requant_one(x, mult[j], shift[j], profile) + (uint32_t)zout);
            out[r * out_stride + j] = y < lo ? lo : (y > hi ? hi : y);
        }
    }
}


/// Per-tensor requantization of a flat array (element-wise ops), in place allowed (`out == x`):
///   out[i] = clamp(multiply(x[i], m, shift) + zout, lo, hi)
static inline void qc_requant_flat(const int32_t *x, ptrdiff_t n, int32_t m, int32_t shift, int32_t zout,
                                   int32_t lo, int32_t hi, int32_t *out, int profile) {
    ptrdiff_t i = 0;
#if defined(__AVX2__)
    const __m256i vm = _mm256_set1_epi32(m), vs = _mm256_set1_epi32(shift), vz = _mm256_set1_epi32(zout);
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    for (; i + 8 <= n; i += 8) {
        __m256i y = _mm256_add_epi32(qc_requant8_uniform(_mm256_loadu_si256((const __m256i *)(x + i)), vm, shift, profile), vz);
        _mm256_storeu_si256((__m256i *)(out + i), _mm256_min_epi32(_mm256_max_epi32(y, vlo), vhi));
    }
#endif
    for (; i < n; i++) {
        int32_t y = (int32_t)((uint32_t)qc_requant_one(x[i], m, shift, profile) + (uint32_t)zout);
        out[i] = y < lo ? lo : (y > hi ? hi : y);
    }
}

/// One input of an element-wise add / subtract (TFLite's integer `Add`), summed into `acc`:
///   acc[i] = (accumulate ? acc[i] : 0) + sign * multiply((x[i] - z) << left, m, shift)
/// every int32 step wrapping, as the reference's; `sign` is +1 or -1, `left` in 0...31.
static inline void qc_rescale_accumulate(const int32_t *x, ptrdiff_t n, int32_t z, int32_t left, int32_t m,
                                         int32_t shift, int32_t sign, int32_t *acc, int accumulate, int profile) {
    ptrdiff_t i = 0;
#if defined(__AVX2__)
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
#endif
    for (; i < n; i++) {
        int32_t shifted = (int32_t)(((uint32_t)x[i] - (uint32_t)z) << left);
        uint32_t v = (uint32_t)sign * (uint32_t)qc_requant_one(shifted, m, shift, profile);
        acc[i] = (int32_t)(v + (accumulate ? (uint32_t)acc[i] : 0u));
    }
}

#endif
