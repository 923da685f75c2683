// The 4 x 16 int32 accumulator tile of the AVX-512 integer GEMM micro-kernels and the 3x3 depthwise pair
// kernel's body, shared by the avx512 and avx512vnni levels. Include it inside a
// `#pragma clang attribute push(target(... avx512f ...))` region, after <immintrin.h>: the functions take
// that file's target attributes.
#ifndef CKERNELS_INT8_AVX512_TILE_H
#define CKERNELS_INT8_AVX512_TILE_H

/// The tile loaded from `c` (rows `ldc` apart) to accumulate, else zero.
static inline void qc_load_c16(const int32_t *c, ptrdiff_t ldc, int accumulate, __m512i *c0, __m512i *c1, __m512i *c2,
                               __m512i *c3) {
    if (accumulate) {
        *c0 = _mm512_loadu_si512(c + 0 * ldc); *c1 = _mm512_loadu_si512(c + 1 * ldc);
        *c2 = _mm512_loadu_si512(c + 2 * ldc); *c3 = _mm512_loadu_si512(c + 3 * ldc);
    } else {
        *c0 = *c1 = *c2 = *c3 = _mm512_setzero_si512();
    }
}

static inline void qc_store_c16(int32_t *c, ptrdiff_t ldc, __m512i c0, __m512i c1, __m512i c2, __m512i c3) {
    _mm512_storeu_si512(c + 0 * ldc, c0); _mm512_storeu_si512(c + 1 * ldc, c1);
    _mm512_storeu_si512(c + 2 * ldc, c2); _mm512_storeu_si512(c + 3 * ldc, c3);
}

/// Lanes `0 ..< n` (n <= 16) of a mask.
static inline __mmask16 qc_lanes16(ptrdiff_t n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

/// The row kernel's body, `QC_DW_PAIR(acc, x, w)` adding the two int16 products of each dword lane to
/// `acc` (`vpmaddwd` + `vpaddd` here, `vpdpwssd` at avx512vnni). Eight channels at stride 1 take two
/// pixels per ZMM (adjacent pixels' pairs are adjacent), the weights repeated in both halves.
#define QC_DW3X3_PAIRS_ROW_BODY                                                                                   \
    const ptrdiff_t line = width * channels, top = out_y * stride_h * line;                                       \
    if (channels == 8 && stride_w == 1) {                                                                         \
        __m512i w[6];                                                                                             \
        for (int i = 0; i < 6; i++) w[i] = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(wpairs + 8 * i))); \
        ptrdiff_t ox = 0;                                                                                         \
        for (; ox + 2 <= out_w; ox += 2) {                                                                        \
            const int32_t *p = pairs + top + ox * 8;                                                              \
            __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();                                     \
            QC_DW_PAIR(s0, _mm512_loadu_si512(p), w[0]); QC_DW_PAIR(s1, _mm512_loadu_si512(p + 16), w[1]);          \
            QC_DW_PAIR(s0, _mm512_loadu_si512(p + line), w[2]); QC_DW_PAIR(s1, _mm512_loadu_si512(p + line + 16), w[3]); \
            QC_DW_PAIR(s0, _mm512_loadu_si512(p + 2 * line), w[4]);                                               \
            QC_DW_PAIR(s1, _mm512_loadu_si512(p + 2 * line + 16), w[5]);                                          \
            _mm512_storeu_si512(acc + ox * 8, _mm512_add_epi32(s0, s1));                                          \
        }                                                                                                         \
        if (ox == out_w) return;                                                                                  \
    }                                                                                                             \
    for (ptrdiff_t c = 0; c < channels; c += 16) {                                                                \
        const __mmask16 k = qc_lanes16(channels - c);                                                             \
        __m512i w[6];                                                                                             \
        for (int i = 0; i < 6; i++) w[i] = _mm512_maskz_loadu_epi32(k, wpairs + i * channels + c);               \
        const ptrdiff_t first = channels == 8 && stride_w == 1 ? out_w - 1 : 0;                                  \
        for (ptrdiff_t ox = first; ox < out_w; ox++) {                                                            \
            const int32_t *p = pairs + top + ox * stride_w * channels + c;                                        \
            __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512();                                     \
            QC_DW_PAIR(s0, _mm512_maskz_loadu_epi32(k, p), w[0]);                                                 \
            QC_DW_PAIR(s1, _mm512_maskz_loadu_epi32(k, p + 2 * channels), w[1]);                                  \
            QC_DW_PAIR(s0, _mm512_maskz_loadu_epi32(k, p + line), w[2]);                                          \
            QC_DW_PAIR(s1, _mm512_maskz_loadu_epi32(k, p + line + 2 * channels), w[3]);                           \
            QC_DW_PAIR(s0, _mm512_maskz_loadu_epi32(k, p + 2 * line), w[4]);                                      \
            QC_DW_PAIR(s1, _mm512_maskz_loadu_epi32(k, p + 2 * line + 2 * channels), w[5]);                       \
            if (k == (__mmask16)0xFFFF) _mm512_storeu_si512(acc + ox * channels + c, _mm512_add_epi32(s0, s1));   \
            else _mm512_mask_storeu_epi32(acc + ox * channels + c, k, _mm512_add_epi32(s0, s1));                  \
        }                                                                                                         \
    }

#endif
