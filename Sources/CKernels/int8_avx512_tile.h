// The 4 x 16 int32 accumulator tile of the AVX-512 integer GEMM micro-kernels, shared by the avx512 and
// avx512vnni levels. Include it inside a `#pragma clang attribute push(target(... avx512f ...))` region,
// after <immintrin.h>: the functions take that file's target attributes.
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

#endif
