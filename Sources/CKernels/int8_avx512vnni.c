// The AVX-512 VNNI level of the integer GEMM micro-kernels (Zen 4, Ice Lake and later): compiled by a
// per-function target attribute, called only when cpuid reports AVX-512 F/BW/VL + VNNI and the OS
// saves ZMM state. The other kernels of this level are the AVX2 ones (isa.c's table).
// Contracts in include/CKernels.h; tested against the scalar level (SimulatorTests.ISALevelTests).
//
// Exactness:
//   `vpdpwssd` (s16 path): multiplies int16 pairs and adds both products to the int32 accumulator, as
//     `vpmaddwd` + `vpaddd` do: with |a| <= 255 and |w| <= 128 a pair sum is at most 65280, exact.
//   `vpdpbusd` (u8 path): multiplies four u8 x s8 pairs and adds the four products to the int32
//     accumulator with NO intermediate saturation (unlike `vpmaddubsw`), so it is exact for the full
//     8-bit weight range; the `_i16` variant (int16 partial sums on the AVX2 level) is the same exact
//     kernel here, equal to it wherever that one is exact.
//   int32 accumulation wraps, as the scalar level's uint32 sums do.
#include "kernels_internal.h"

#if QC_X86
#include <immintrin.h>

#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))), apply_to = function)

#include "int8_avx512_tile.h"

void qc_gemm_s16_4x16_avx512vnni(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs,
        int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m512i c0, c1, c2, c3;
    qc_load_c16(c, ldc, accumulate, &c0, &c1, &c2, &c3);
    const int16_t *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    for (ptrdiff_t p = 0; p < kpairs; p++) {
        __m512i w = _mm512_loadu_si512(b + 32 * p);  // 16 columns x one k pair
        c0 = _mm512_dpwssd_epi32(c0, _mm512_set1_epi32(qc_load_i32(a0 + 2 * p)), w);
        c1 = _mm512_dpwssd_epi32(c1, _mm512_set1_epi32(qc_load_i32(a1 + 2 * p)), w);
        c2 = _mm512_dpwssd_epi32(c2, _mm512_set1_epi32(qc_load_i32(a2 + 2 * p)), w);
        c3 = _mm512_dpwssd_epi32(c3, _mm512_set1_epi32(qc_load_i32(a3 + 2 * p)), w);
    }
    qc_store_c16(c, ldc, c0, c1, c2, c3);
}

void qc_gemm_u8s8_4x16_avx512vnni(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads,
        int32_t *c, ptrdiff_t ldc, int accumulate) {
    // The indirect kernel with one tap: the four rows are lda apart.
    const uint8_t *rows[4] = {a, a + lda, a + 2 * lda, a + 3 * lda};
    qc_gemm_u8s8_4x16_indirect_avx512vnni(1, kquads, rows, b, c, ldc, accumulate);
}

void qc_gemm_u8s8_4x16_i16_avx512vnni(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads,
        int32_t *c, ptrdiff_t ldc, int accumulate, ptrdiff_t chunk) {
    (void)chunk;  // exact without int16 partial sums
    qc_gemm_u8s8_4x16_avx512vnni(a, lda, b, kquads, c, ldc, accumulate);
}

/// The u8 kernel, A read tap by tap through the row table (the plain kernel is its one-tap case).
static inline __attribute__((always_inline)) void qc_tile16_vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        ptrdiff_t off, const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m512i c0, c1, c2, c3;
    qc_load_c16(c, ldc, accumulate, &c0, &c1, &c2, &c3);
    for (ptrdiff_t t = 0; t < taps; t++, rows += 4, b += 64 * tap_quads) {
        const uint8_t *a0 = qc_row(rows, 0, off), *a1 = qc_row(rows, 1, off);
        const uint8_t *a2 = qc_row(rows, 2, off), *a3 = qc_row(rows, 3, off);
        for (ptrdiff_t q = 0; q < tap_quads; q++) {
            __m512i w = _mm512_loadu_si512(b + 64 * q);
            c0 = _mm512_dpbusd_epi32(c0, _mm512_set1_epi32(qc_load_i32(a0 + 4 * q)), w);
            c1 = _mm512_dpbusd_epi32(c1, _mm512_set1_epi32(qc_load_i32(a1 + 4 * q)), w);
            c2 = _mm512_dpbusd_epi32(c2, _mm512_set1_epi32(qc_load_i32(a2 + 4 * q)), w);
            c3 = _mm512_dpbusd_epi32(c3, _mm512_set1_epi32(qc_load_i32(a3 + 4 * q)), w);
        }
    }
    qc_store_c16(c, ldc, c0, c1, c2, c3);
}

/// Two panels at once (32 channels): eight accumulator chains instead of four hide `vpdpbusd`'s latency,
/// and each row pointer and broadcast serves both panels. `panel_stride` bytes from `b` to the second panel.
static inline __attribute__((always_inline)) void qc_tile32_vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        ptrdiff_t off, const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m512i c0, c1, c2, c3, d0, d1, d2, d3;
    qc_load_c16(c, ldc, accumulate, &c0, &c1, &c2, &c3);
    qc_load_c16(c + 16, ldc, accumulate, &d0, &d1, &d2, &d3);
    const int8_t *b1 = b + panel_stride;
    for (ptrdiff_t t = 0; t < taps; t++, rows += 4, b += 64 * tap_quads, b1 += 64 * tap_quads) {
        const uint8_t *a0 = qc_row(rows, 0, off), *a1 = qc_row(rows, 1, off);
        const uint8_t *a2 = qc_row(rows, 2, off), *a3 = qc_row(rows, 3, off);
        for (ptrdiff_t q = 0; q < tap_quads; q++) {
            __m512i w = _mm512_loadu_si512(b + 64 * q), v = _mm512_loadu_si512(b1 + 64 * q);
            __m512i x0 = _mm512_set1_epi32(qc_load_i32(a0 + 4 * q)), x1 = _mm512_set1_epi32(qc_load_i32(a1 + 4 * q));
            __m512i x2 = _mm512_set1_epi32(qc_load_i32(a2 + 4 * q)), x3 = _mm512_set1_epi32(qc_load_i32(a3 + 4 * q));
            c0 = _mm512_dpbusd_epi32(c0, x0, w); d0 = _mm512_dpbusd_epi32(d0, x0, v);
            c1 = _mm512_dpbusd_epi32(c1, x1, w); d1 = _mm512_dpbusd_epi32(d1, x1, v);
            c2 = _mm512_dpbusd_epi32(c2, x2, w); d2 = _mm512_dpbusd_epi32(d2, x2, v);
            c3 = _mm512_dpbusd_epi32(c3, x3, w); d3 = _mm512_dpbusd_epi32(d3, x3, v);
        }
    }
    qc_store_c16(c, ldc, c0, c1, c2, c3);
    qc_store_c16(c + 16, ldc, d0, d1, d2, d3);
}

/// Four rows of 8 channels (the first 8 dwords of a panel's quad step) at half width.
static inline __attribute__((always_inline)) void qc_dot4x8_vnni(ptrdiff_t taps, ptrdiff_t tap_quads,
        const uint8_t *const *rows, ptrdiff_t off, const int8_t *b, __m256i acc[4]) {
    for (ptrdiff_t t = 0; t < taps; t++, rows += 4, b += 64 * tap_quads) {
        const uint8_t *a0 = qc_row(rows, 0, off), *a1 = qc_row(rows, 1, off);
        const uint8_t *a2 = qc_row(rows, 2, off), *a3 = qc_row(rows, 3, off);
        for (ptrdiff_t q = 0; q < tap_quads; q++) {
            __m256i w = _mm256_loadu_si256((const __m256i *)(b + 64 * q));
            acc[0] = _mm256_dpbusd_epi32(acc[0], _mm256_set1_epi32(qc_load_i32(a0 + 4 * q)), w);
            acc[1] = _mm256_dpbusd_epi32(acc[1], _mm256_set1_epi32(qc_load_i32(a1 + 4 * q)), w);
            acc[2] = _mm256_dpbusd_epi32(acc[2], _mm256_set1_epi32(qc_load_i32(a2 + 4 * q)), w);
            acc[3] = _mm256_dpbusd_epi32(acc[3], _mm256_set1_epi32(qc_load_i32(a3 + 4 * q)), w);
        }
    }
}

static inline void qc_load_c8(const int32_t *c, ptrdiff_t ldc, int accumulate, __m256i acc[4]) {
    for (int r = 0; r < 4; r++) acc[r] = accumulate ? _mm256_loadu_si256((const __m256i *)(c + r * ldc)) : _mm256_setzero_si256();
}

static inline void qc_store_c8(int32_t *c, ptrdiff_t ldc, const __m256i acc[4]) {
    for (int r = 0; r < 4; r++) _mm256_storeu_si256((__m256i *)(c + r * ldc), acc[r]);
}

/// A panel whose channels 8-15 are padding: channels 0-7 only, as YMM `vpdpbusd`, which costs half a
/// ZMM one on cores that split 512-bit operations (Zen 4). c[r * ldc + 8 ... 15] are not written.
static inline __attribute__((always_inline)) void qc_tile8_vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        ptrdiff_t off, const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m256i acc[4];
    qc_load_c8(c, ldc, accumulate, acc);
    qc_dot4x8_vnni(taps, tap_quads, rows, off, b, acc);
    qc_store_c8(c, ldc, acc);
}

/// A panel pair whose second panel holds at most 8 channels: the first panel at full width, the
/// second's channels 16-23 at half width. c[r * ldc + 24 ... 31] are not written.
static inline __attribute__((always_inline)) void qc_tile24_vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        ptrdiff_t off, const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    __m512i c0, c1, c2, c3;
    __m256i d[4];
    qc_load_c16(c, ldc, accumulate, &c0, &c1, &c2, &c3);
    qc_load_c8(c + 16, ldc, accumulate, d);
    const int8_t *b1 = b + panel_stride;
    for (ptrdiff_t t = 0; t < taps; t++, rows += 4, b += 64 * tap_quads, b1 += 64 * tap_quads) {
        const uint8_t *a0 = qc_row(rows, 0, off), *a1 = qc_row(rows, 1, off);
        const uint8_t *a2 = qc_row(rows, 2, off), *a3 = qc_row(rows, 3, off);
        for (ptrdiff_t q = 0; q < tap_quads; q++) {
            __m512i w = _mm512_loadu_si512(b + 64 * q);
            __m256i v = _mm256_loadu_si256((const __m256i *)(b1 + 64 * q));
            __m512i x0 = _mm512_set1_epi32(qc_load_i32(a0 + 4 * q)), x1 = _mm512_set1_epi32(qc_load_i32(a1 + 4 * q));
            __m512i x2 = _mm512_set1_epi32(qc_load_i32(a2 + 4 * q)), x3 = _mm512_set1_epi32(qc_load_i32(a3 + 4 * q));
            __m256i y0 = _mm256_set1_epi32(qc_load_i32(a0 + 4 * q)), y1 = _mm256_set1_epi32(qc_load_i32(a1 + 4 * q));
            __m256i y2 = _mm256_set1_epi32(qc_load_i32(a2 + 4 * q)), y3 = _mm256_set1_epi32(qc_load_i32(a3 + 4 * q));
            c0 = _mm512_dpbusd_epi32(c0, x0, w); d[0] = _mm256_dpbusd_epi32(d[0], y0, v);
            c1 = _mm512_dpbusd_epi32(c1, x1, w); d[1] = _mm256_dpbusd_epi32(d[1], y1, v);
            c2 = _mm512_dpbusd_epi32(c2, x2, w); d[2] = _mm256_dpbusd_epi32(d[2], y2, v);
            c3 = _mm512_dpbusd_epi32(c3, x3, w); d[3] = _mm256_dpbusd_epi32(d[3], y3, v);
        }
    }
    qc_store_c16(c, ldc, c0, c1, c2, c3);
    qc_store_c8(c + 16, ldc, d);
}

/// The indirect kernels of `include/CKernels.h`, one tile per call.
void qc_gemm_u8s8_4x16_indirect_avx512vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_tile16_vnni(taps, tap_quads, rows, 0, b, c, ldc, accumulate);
}

void qc_gemm_u8s8_4x32_indirect_avx512vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_tile32_vnni(taps, tap_quads, rows, 0, b, panel_stride, c, ldc, accumulate);
}

void qc_gemm_u8s8_4x8_indirect_avx512vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_tile8_vnni(taps, tap_quads, rows, 0, b, c, ldc, accumulate);
}

void qc_gemm_u8s8_4x24_indirect_avx512vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
        const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_tile24_vnni(taps, tap_quads, rows, 0, b, panel_stride, c, ldc, accumulate);
}

/// `qc_gemm_u8s8_indirect_tiles` at this level: the tile loop around the inlined kernel of `width`.
void qc_gemm_u8s8_indirect_tiles_avx512vnni(int width, ptrdiff_t tiles, ptrdiff_t tile_entries, ptrdiff_t taps,
        ptrdiff_t tap_quads, const uint8_t *const *rows, ptrdiff_t row_offset, const int8_t *b, ptrdiff_t panel_stride,
        int32_t *c, ptrdiff_t ldc, int accumulate) {
    const ptrdiff_t step = 4 * ldc, off = row_offset;
    switch (width) {
    case 8:
        for (ptrdiff_t t = 0; t < tiles; t++)
            qc_tile8_vnni(taps, tap_quads, rows + t * tile_entries, off, b, c + t * step, ldc, accumulate);
        break;
    case 16:
        for (ptrdiff_t t = 0; t < tiles; t++)
            qc_tile16_vnni(taps, tap_quads, rows + t * tile_entries, off, b, c + t * step, ldc, accumulate);
        break;
    case 24:
        for (ptrdiff_t t = 0; t < tiles; t++)
            qc_tile24_vnni(taps, tap_quads, rows + t * tile_entries, off, b, panel_stride, c + t * step, ldc, accumulate);
        break;
    default:
        for (ptrdiff_t t = 0; t < tiles; t++)
            qc_tile32_vnni(taps, tap_quads, rows + t * tile_entries, off, b, panel_stride, c + t * step, ldc, accumulate);
        break;
    }
}

/// The avx512 level's pair kernel with `vpdpwssd`: one instruction per pair of taps instead of two.
void qc_dw3x3_pairs_row_avx512vnni(const int32_t *pairs, ptrdiff_t width, ptrdiff_t channels, const int32_t *wpairs,
        ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc) {
#define QC_DW_PAIR(s, x, w) s = _mm512_dpwssd_epi32(s, x, w)
    QC_DW3X3_PAIRS_ROW_BODY
#undef QC_DW_PAIR
}

/// The level's int8 peak probe: twelve independent `vpdpbusd` zmm chains (64 u8 x s8 multiply-adds
/// each), more than its latency times its throughput, so the loop runs at the instruction's throughput.
int64_t qc_int8_probe_avx512vnni(ptrdiff_t iterations, int64_t seed, int64_t *ops) {
    const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8((char)(seed & 0x3f));
    __m512i c0 = _mm512_set1_epi32(1), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    __m512i c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (ptrdiff_t i = 0; i < iterations; i++) {
        c0 = _mm512_dpbusd_epi32(c0, a, b); c1 = _mm512_dpbusd_epi32(c1, a, b); c2 = _mm512_dpbusd_epi32(c2, a, b);
        c3 = _mm512_dpbusd_epi32(c3, a, b); c4 = _mm512_dpbusd_epi32(c4, a, b); c5 = _mm512_dpbusd_epi32(c5, a, b);
        c6 = _mm512_dpbusd_epi32(c6, a, b); c7 = _mm512_dpbusd_epi32(c7, a, b); c8 = _mm512_dpbusd_epi32(c8, a, b);
        c9 = _mm512_dpbusd_epi32(c9, a, b); c10 = _mm512_dpbusd_epi32(c10, a, b); c11 = _mm512_dpbusd_epi32(c11, a, b);
    }
    __m512i t = _mm512_add_epi32(_mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)),
                                 _mm512_add_epi32(_mm512_add_epi32(c4, c5), _mm512_add_epi32(c6, c7)));
    t = _mm512_add_epi32(t, _mm512_add_epi32(_mm512_add_epi32(c8, c9), _mm512_add_epi32(c10, c11)));
    *ops = (int64_t)iterations * 12 * 64 * 2;
    return _mm512_reduce_add_epi32(t);
}

#pragma clang attribute pop
#endif
