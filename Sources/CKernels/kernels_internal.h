// Shared by the per-level kernel files: the scalar requantization step (the tails of every level) and
// the level tables. Not part of the public header.
#ifndef CKERNELS_INTERNAL_H
#define CKERNELS_INTERNAL_H

#include "CKernels.h"
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define QC_X86 1
#else
#define QC_X86 0
#endif


/// The float micro-kernels of one width (`qc_sgemm_6x16` / `6x8` / `6x4` of some level).
typedef void (*qc_sgemm_6xn_fn)(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets,
                                const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo,
                                float hi, const qc_f32_tail *tail);

/// Pixels `0 ..< count` of one output row read in place (pixel x's A row at `a + x * a_step`, plus
/// `offsets[k]`) against one 16-column B panel with `valid` real columns, six pixels per call of the
/// narrowest of `k16`, `k8`, `k4` that covers them: in place where the call covers exactly the valid
/// part of C, else on a 6x16 copy with the valid part written back, as `gemmTile` (GEMM.swift) does.
static inline void qc_sgemm_panel_row(qc_sgemm_6xn_fn k16, qc_sgemm_6xn_fn k8, qc_sgemm_6xn_fn k4, ptrdiff_t count,
                                      ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *offsets,
                                      const float *b, ptrdiff_t valid, float *c, ptrdiff_t ldc, const float *bias,
                                      int clamps, float lo, float hi, const qc_f32_tail *tail) {
    const ptrdiff_t width = valid > 8 ? 16 : (valid > 4 ? 8 : 4);
    const qc_sgemm_6xn_fn kernel = width == 16 ? k16 : (width == 8 ? k8 : k4);
    for (ptrdiff_t x = 0; x < count; x += 6) {
        const ptrdiff_t rows = count - x < 6 ? count - x : 6;
        float *cx = c + x * ldc;
        if (rows == 6 && valid == width) {
            kernel(kc, a + x * a_step, a_step, offsets, b, cx, ldc, bias, clamps, lo, hi, tail);
            continue;
        }
        float tile[6 * 16];
        if (!bias) {
            for (ptrdiff_t r = 0; r < rows; r++) memcpy(tile + 16 * r, cx + r * ldc, (size_t)valid * sizeof(float));
        }
        kernel(kc, a + x * a_step, a_step, offsets, b, tile, 16, bias, clamps, lo, hi, tail);
        for (ptrdiff_t r = 0; r < rows; r++) memcpy(cx + r * ldc, tile + 16 * r, (size_t)valid * sizeof(float));
    }
}

/// The indirect float micro-kernel of some level (`qc_sgemm_6xw_indirect`).
typedef void (*qc_sgemm_indirect_fn)(int width, ptrdiff_t taps, ptrdiff_t cin, const float *const *rows,
                                     const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo,
                                     float hi, const qc_f32_tail *tail);

/// Rows `0 ..< count` of a matrix, A[m][k] = a[m * lda + k], against one 16-column B panel with `valid`
/// real columns: six rows per call of `kernel` through a one-tap row table (rows past `count` point at
/// the group's first row, so no row past `count` is read), in place where the call covers exactly the
/// valid part of C, else on a 6x16 copy with the valid part written back, as `gemmTile` does.
static inline void qc_sgemm_panel_matrix(qc_sgemm_indirect_fn kernel, ptrdiff_t count, ptrdiff_t kc, const float *a,
                                         ptrdiff_t lda, const float *b, ptrdiff_t valid, float *c, ptrdiff_t ldc,
                                         const float *bias, int clamps, float lo, float hi,
                                         const qc_f32_tail *tail) {
    const int width = valid > 8 ? 16 : (valid > 4 ? 8 : 4);
    for (ptrdiff_t x = 0; x < count; x += 6) {
        const ptrdiff_t rows = count - x < 6 ? count - x : 6;
        const float *table[6];
        for (ptrdiff_t r = 0; r < 6; r++) table[r] = a + (x + (r < rows ? r : 0)) * lda;
        float *cx = c + x * ldc;
        if (rows == 6 && valid == width) {
            kernel(width, 1, kc, table, b, cx, ldc, bias, clamps, lo, hi, tail);
            continue;
        }
        float tile[6 * 16];
        if (!bias) {
            for (ptrdiff_t r = 0; r < rows; r++) memcpy(tile + 16 * r, cx + r * ldc, (size_t)valid * sizeof(float));
        }
        kernel(width, 1, kc, table, b, tile, 16, bias, clamps, lo, hi, tail);
        for (ptrdiff_t r = 0; r < rows; r++) memcpy(cx + r * ldc, tile + 16 * r, (size_t)valid * sizeof(float));
    }
}

/// Rows `0 ..< count` of a convolution read from per-row patch origins (`qc_sgemm_patch_rows`) against
/// one 16-column B panel with `valid` real columns: six rows per call of `kernel` through the row table
/// `origins[r] + offsets[t * cin]` (rows past `count` read the group's first origin, so no origin past
/// `count` is read), in place where the call covers exactly the valid part of C, else on a 6x16 copy
/// with the valid part written back, as `gemmTile` does.
static inline void qc_sgemm_panel_patches(qc_sgemm_indirect_fn kernel, ptrdiff_t count, ptrdiff_t kc, ptrdiff_t cin,
                                          const float *const *origins, const ptrdiff_t *offsets, const float *b,
                                          ptrdiff_t valid, float *c, ptrdiff_t ldc, const float *bias, int clamps,
                                          float lo, float hi, const qc_f32_tail *tail) {
    const int width = valid > 8 ? 16 : (valid > 4 ? 8 : 4);
    const ptrdiff_t taps = kc / cin;
    const float *table[6 * QC_PATCH_MAX_TAPS];
    for (ptrdiff_t x = 0; x < count; x += 6) {
        const ptrdiff_t rows = count - x < 6 ? count - x : 6;
        for (ptrdiff_t t = 0; t < taps; t++) {
            for (ptrdiff_t r = 0; r < 6; r++) table[6 * t + r] = origins[x + (r < rows ? r : 0)] + offsets[t * cin];
        }
        float *cx = c + x * ldc;
        if (rows == 6 && valid == width) {
            kernel(width, taps, cin, table, b, cx, ldc, bias, clamps, lo, hi, tail);
            continue;
        }
        float tile[6 * 16];
        if (!bias) {
            for (ptrdiff_t r = 0; r < rows; r++) memcpy(tile + 16 * r, cx + r * ldc, (size_t)valid * sizeof(float));
        }
        kernel(width, taps, cin, table, b, tile, 16, bias, clamps, lo, hi, tail);
        for (ptrdiff_t r = 0; r < rows; r++) memcpy(cx + r * ldc, tile + 16 * r, (size_t)valid * sizeof(float));
    }
}

/// `qc_sgemm_patch_rows` at the avx512 levels (f32_avx512.c).
void qc_sgemm_patch_rows_avx512(ptrdiff_t count, ptrdiff_t kc, ptrdiff_t cin, const float *const *origins,
                                const ptrdiff_t *offsets, const float *b, ptrdiff_t b_stride, ptrdiff_t panels,
                                ptrdiff_t n, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                                const qc_f32_tail *tail);

/// `qc_sgemm_matrix_rows` at the avx512 levels (f32_avx512.c).
void qc_sgemm_matrix_rows_avx512(ptrdiff_t count, ptrdiff_t kc, const float *a, ptrdiff_t lda, const float *b,
                                 ptrdiff_t b_stride, ptrdiff_t panels, ptrdiff_t n, float *c, ptrdiff_t ldc,
                                 const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail);

/// `qc_sgemm_row_inplace` at the avx512 levels (f32_avx512.c).
void qc_sgemm_row_inplace_avx512(ptrdiff_t count, ptrdiff_t kc, const float *a, ptrdiff_t a_step,
                                 const ptrdiff_t *a_offsets, const float *b, ptrdiff_t panels, ptrdiff_t n, float *c,
                                 ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                                 const qc_f32_tail *tail);

/// `tail` moved to B panel `j`'s columns (16 j ...), in `moved`; NULL for no tail.
static inline const qc_f32_tail *qc_f32_tail_panel(const qc_f32_tail *tail, ptrdiff_t j, qc_f32_tail *moved) {
    if (!tail) return NULL;
    *moved = *tail;
    if (moved->scale) {
        moved->scale += 16 * j;
        moved->shift += 16 * j;
    }
    return moved;
}

/// `QTensor.quantizeEdge` of one value, in its steps (every one exact in float for magnitudes < 2^22):
/// the quotient clamped to [below, above] (a NaN to `below`, then `zero` at the end), rounded half away
/// from zero through the 2^23 trick, and the integer read from the mantissa of `value + 1.5 * 2^23`.
static inline int32_t qc_quantize_edge_one(float x, float scale, int32_t zero, float below, float above) {
    const float quotient = x / scale;
    const float raised = quotient > below ? quotient : below;
    const float y = raised < above ? raised : above;
    const float a = y < 0 ? -y : y;
    const float even = (a + 8388608.0f) - 8388608.0f;
    const float away = even + (a - even == 0.5f ? 1.0f : 0.0f);
    uint32_t sign, magnitude;
    memcpy(&sign, &y, sizeof sign);
    memcpy(&magnitude, &away, sizeof magnitude);
    magnitude |= sign & 0x80000000u;
    float value;
    memcpy(&value, &magnitude, sizeof value);
    value += (float)zero;
    const float shifted = value + 12582912.0f;
    int32_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    return quotient != quotient ? zero : bits - 0x4B400000;
}

/// Each level's functions carry its suffix; `isa.c` gathers them into the `qc_kernels` tables.
#define QC_DECLARE_LEVEL(sfx) \
    void qc_gemm_s16_4x16_##sfx(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c, \
                                ptrdiff_t ldc, int accumulate); \
    void qc_gemm_s16_4x8_##sfx(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c, \
                               ptrdiff_t ldc, int accumulate); \
    void qc_gemm_u8s8_4x16_##sfx(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c, \
                                 ptrdiff_t ldc, int accumulate); \
    void qc_gemm_u8s8_4x16_i16_##sfx(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c, \
                                     ptrdiff_t ldc, int accumulate, ptrdiff_t chunk); \
    void qc_requant_rows_##sfx(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t channels, const int32_t *bias, \
                               const int32_t *mult, const int32_t *shift, int32_t zout, int32_t lo, int32_t hi, \
                               int32_t *out, ptrdiff_t out_stride, int profile); \
    void qc_requant_flat_##sfx(const int32_t *x, ptrdiff_t n, int32_t m, int32_t shift, int32_t zout, int32_t lo, \
                               int32_t hi, int32_t *out, int profile); \
    void qc_rescale_accumulate_##sfx(const int32_t *x, ptrdiff_t n, int32_t z, int32_t left, int32_t m, int32_t shift, \
                                     int32_t sign, int32_t *acc, int accumulate, int profile); \
    void qc_sgemm_6x16_##sfx(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, \
                             const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, \
                             const qc_f32_tail *tail);                                                                 \
    void qc_sgemm_6x8_##sfx(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, \
                            const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, \
                            const qc_f32_tail *tail);                                                                  \
    void qc_sgemm_6x4_##sfx(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, \
                            const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi, \
                            const qc_f32_tail *tail);                                                                  \
    void qc_depthwise_row_f32_##sfx(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, \
                                    const float *weights, const float *bias, ptrdiff_t kernel_h, ptrdiff_t kernel_w, \
                                    ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, \
                                    ptrdiff_t dilation_w, ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, \
                                    ptrdiff_t out_w, float *out, int clamps, float lo, float hi); \
    float qc_fma_probe_##sfx(ptrdiff_t iterations, float seed, int64_t *flops); \
    int64_t qc_int8_probe_##sfx(ptrdiff_t iterations, int64_t seed, int64_t *ops); \
    void qc_depthwise_row_i32_##sfx(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, \
                                    const int32_t *weights, int32_t zin, ptrdiff_t kernel_h, ptrdiff_t kernel_w, \
                                    ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, \
                                    ptrdiff_t dilation_w, ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, \
                                    ptrdiff_t out_w, int32_t *acc); \
    void qc_sgemm_6xw_indirect_##sfx(int width, ptrdiff_t taps, ptrdiff_t cin, const float *const *rows, \
                                     const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, \
                                     float lo, float hi, const qc_f32_tail *tail); \
    void qc_gemm_u8s8_4x16_indirect_##sfx(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, \
                                          const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate); \
    void qc_gemm_u8s8_4x32_indirect_##sfx(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows, \
                                          const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, \
                                          int accumulate); \
    void qc_maxpool_row_i32_##sfx(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, \
                                  ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, \
                                  ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, \
                                  int32_t empty, int32_t *out); \
    void qc_lookup_i32_##sfx(const int32_t *x, ptrdiff_t n, ptrdiff_t channels, const int32_t *table, ptrdiff_t levels, \
                             int32_t offset, int32_t *out); \
    void qc_avgpool_row_i32_##sfx(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, \
                                  ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, \
                                  ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, \
                                  const uint64_t *magic, const uint64_t *shift, int32_t empty, int32_t lo, int32_t hi, \
                                  int32_t *out); \
    void qc_offset_u8_##sfx(const int32_t *x, ptrdiff_t n, int32_t offset, uint8_t *out); \
    void qc_pool_row_f32_##sfx(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, \
                               ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, \
                               ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int average, \
                               float *out); \
    void qc_activation_f32_##sfx(int kind, float *x, ptrdiff_t n); \
    void qc_add_f32_##sfx(const float *a, const float *b, float *out, ptrdiff_t n, int activation); \
    void qc_quantize_edge_f32_##sfx(const float *x, ptrdiff_t n, float scale, int32_t zero, float below, float above, \
                                    int32_t *q);

QC_DECLARE_LEVEL(scalar)
#if QC_X86
QC_DECLARE_LEVEL(avx2)
int64_t qc_int8_probe_s16_avx2(ptrdiff_t iterations, int64_t seed, int64_t *ops);
int64_t qc_int8_probe_s16_avx512(ptrdiff_t iterations, int64_t seed, int64_t *ops);
QC_DECLARE_LEVEL(avx512)
// The avx512vnni level's own kernels (int8_avx512vnni.c); the rest of its table is the avx512 level's.
void qc_gemm_s16_4x16_avx512vnni(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c,
                                 ptrdiff_t ldc, int accumulate);
void qc_gemm_u8s8_4x16_avx512vnni(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c,
                                  ptrdiff_t ldc, int accumulate);
int64_t qc_int8_probe_avx512vnni(ptrdiff_t iterations, int64_t seed, int64_t *ops);
void qc_gemm_u8s8_4x16_i16_avx512vnni(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c,
                                      ptrdiff_t ldc, int accumulate, ptrdiff_t chunk);
void qc_gemm_u8s8_4x16_indirect_avx512vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
                                           const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate);
void qc_gemm_u8s8_4x32_indirect_avx512vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
                                           const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc,
                                           int accumulate);
void qc_gemm_u8s8_indirect_tiles_avx512vnni(int width, ptrdiff_t tiles, ptrdiff_t tile_entries, ptrdiff_t taps,
                                            ptrdiff_t tap_quads, const uint8_t *const *rows, ptrdiff_t row_offset,
                                            const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc,
                                            int accumulate);
void qc_dw3x3_pairs_build_avx2(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin,
                               ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t height, ptrdiff_t width, int32_t *pairs);
void qc_dw3x3_pairs_row_avx2(const int32_t *pairs, ptrdiff_t width, ptrdiff_t channels, const int32_t *wpairs,
                             ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc);
void qc_add2_requant_avx2(const int32_t *x0, const int32_t *x1, ptrdiff_t n, int32_t z0, int32_t z1, int32_t left,
                          int32_t m0, int32_t s0, int32_t m1, int32_t s1, int32_t sign0, int32_t sign1, int32_t m,
                          int32_t shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out, int profile);
void qc_add2_requant_avx512(const int32_t *x0, const int32_t *x1, ptrdiff_t n, int32_t z0, int32_t z1, int32_t left,
                            int32_t m0, int32_t s0, int32_t m1, int32_t s1, int32_t sign0, int32_t sign1, int32_t m,
                            int32_t shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out, int profile);
/// `qc_add2_requant` as the level's three separate kernels over blocks of `out` (isa.c).
void qc_add2_requant_blocks(const qc_kernels *k, const int32_t *x0, const int32_t *x1, ptrdiff_t n, int32_t z0,
                            int32_t z1, int32_t left, int32_t m0, int32_t s0, int32_t m1, int32_t s1, int32_t sign0,
                            int32_t sign1, int32_t m, int32_t shift, int32_t zout, int32_t lo, int32_t hi, int32_t *out,
                            int profile);
void qc_dw3x3_pairs_build_avx512(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin,
                                 ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t height, ptrdiff_t width, int32_t *pairs);
void qc_dw3x3_pairs_row_avx512(const int32_t *pairs, ptrdiff_t width, ptrdiff_t channels, const int32_t *wpairs,
                               ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc);
void qc_dw3x3_pairs_row_avx512vnni(const int32_t *pairs, ptrdiff_t width, ptrdiff_t channels, const int32_t *wpairs,
                                   ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc);
void qc_gemm_u8s8_4x8_indirect_avx512vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
                                          const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate);
void qc_gemm_u8s8_4x24_indirect_avx512vnni(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
                                           const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc,
                                           int accumulate);
#endif

/// Row pointer r of an indirect tile, `offset` bytes on (tables built once relative to an image hold
/// offsets, not addresses, so the sum is taken on integers).
static inline const uint8_t *qc_row(const uint8_t *const *rows, int r, ptrdiff_t offset) {
    return (const uint8_t *)((uintptr_t)rows[r] + (uintptr_t)offset);
}

static inline int32_t qc_load_i32(const void *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/// One lane of the requantization (the contract in CKernels.h), scalar: the reference every vector
/// body is tested against lane for lane, and the tail of every level.
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

/// The body of a level's peak probe (`qc_int8_probe_*`): twelve independent chains
/// `c[j] = ADD(c[j], MUL(c[j], b))` of `VEC` registers, `iterations` steps, each step reading its own
/// chain so nothing is hoisted; then the chains added lane by lane (`LANES` lanes of `LANE_T`, stored by
/// `STORE(pointer, vector)`) into the checksum it returns, and `PRODUCTS` multiply-adds per instruction
/// (2 operations each) counted in `*ops`. Used inside the level's own target-attributed functions.
#define QC_PROBE_BODY(VEC, B, INIT, MUL, ADD, STORE, LANE_T, LANES, PRODUCTS)                                  \
    const VEC qc_b = (B);                                                                                      \
    VEC qc_c[12];                                                                                              \
    for (int j = 0; j < 12; j++) qc_c[j] = INIT(j + 1);                                                        \
    for (ptrdiff_t i = 0; i < iterations; i++) {                                                               \
        _Pragma("clang loop unroll(full)")                                                                     \
        for (int j = 0; j < 12; j++) qc_c[j] = ADD(qc_c[j], MUL(qc_c[j], qc_b));                               \
    }                                                                                                          \
    VEC qc_t = qc_c[0];                                                                                        \
    for (int j = 1; j < 12; j++) qc_t = ADD(qc_t, qc_c[j]);                                                    \
    LANE_T qc_lanes[LANES];                                                                                    \
    STORE(qc_lanes, qc_t);                                                                                     \
    int64_t qc_sum = 0;                                                                                        \
    for (int j = 0; j < (LANES); j++) qc_sum += qc_lanes[j];                                                   \
    *ops = (int64_t)iterations * 12 * (PRODUCTS) * 2;                                                          \
    return qc_sum;

/// Scalar tails shared by every level: rows `0 ..< rows`, channels `j0 ..< channels`.
static inline void qc_requant_rows_tail(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t j0, ptrdiff_t channels,
                                        const int32_t *bias, const int32_t *mult, const int32_t *shift, int32_t zout,
                                        int32_t lo, int32_t hi, int32_t *out, ptrdiff_t out_stride, int profile) {
    if (j0 >= channels) return;  // no tail: not even an empty pass over the rows
    for (ptrdiff_t r = 0; r < rows; r++) {
        for (ptrdiff_t j = j0; j < channels; j++) {
            int32_t x = (int32_t)((uint32_t)c[r * ldc + j] + (uint32_t)bias[j]);
            int32_t y = (int32_t)((uint32_t)qc_requant_one(x, mult[j], shift[j], profile) + (uint32_t)zout);
            out[r * out_stride + j] = y < lo ? lo : (y > hi ? hi : y);
        }
    }
}

static inline void qc_requant_flat_tail(const int32_t *x, ptrdiff_t i, ptrdiff_t n, int32_t m, int32_t shift,
                                        int32_t zout, int32_t lo, int32_t hi, int32_t *out, int profile) {
    for (; i < n; i++) {
        int32_t y = (int32_t)((uint32_t)qc_requant_one(x[i], m, shift, profile) + (uint32_t)zout);
        out[i] = y < lo ? lo : (y > hi ? hi : y);
    }
}

static inline void qc_rescale_accumulate_tail(const int32_t *x, ptrdiff_t i, ptrdiff_t n, int32_t z, int32_t left,
                                              int32_t m, int32_t shift, int32_t sign, int32_t *acc, int accumulate,
                                              int profile) {
    for (; i < n; i++) {
        int32_t shifted = (int32_t)(((uint32_t)x[i] - (uint32_t)z) << left);
        uint32_t v = (uint32_t)sign * (uint32_t)qc_requant_one(shifted, m, shift, profile);
        acc[i] = (int32_t)(v + (accumulate ? (uint32_t)acc[i] : 0u));
    }
}

/// One input row's part of a 3x3 depthwise pair image (`qc_dw3x3_pairs_build`), from `pixel` on: the
/// (padding, first pixel) pair when `first_edge`, the interior pairs, then the (last pixel, padding)
/// pair, at the level's width (`qc_dw3x3_pairs_line_avx2` / `_avx512`).
typedef void (*qc_dw3x3_pairs_line_fn)(const int32_t *src, ptrdiff_t in_w, ptrdiff_t channels, int32_t zin, int first_edge,
                                       int32_t *pixel);

/// `qc_dw3x3_pairs_build` around a level's line: rows with no input pixel are zeros, and so are the
/// columns left of the first edge pair and right of the last.
static inline void qc_dw3x3_pairs_build_rows(qc_dw3x3_pairs_line_fn line, const int32_t *sample, ptrdiff_t in_h,
                                             ptrdiff_t in_w, ptrdiff_t channels, int32_t zin, ptrdiff_t pad_top,
                                             ptrdiff_t pad_left, ptrdiff_t height, ptrdiff_t width, int32_t *pairs) {
    const ptrdiff_t row_values = width * channels, first = pad_left > 0 ? pad_left - 1 : 0, end = pad_left + in_w;
    for (ptrdiff_t y = 0; y < height; y++) {
        int32_t *row = pairs + y * row_values;
        const ptrdiff_t in_y = y - pad_top;
        if (in_y < 0 || in_y >= in_h) {
            memset(row, 0, (size_t)row_values * sizeof(int32_t));
            continue;
        }
        if (first > 0) memset(row, 0, (size_t)(first * channels) * sizeof(int32_t));
        line(sample + in_y * in_w * channels, in_w, channels, zin, pad_left > 0, row + first * channels);
        if (end < width) memset(row + end * channels, 0, (size_t)((width - end) * channels) * sizeof(int32_t));
    }
}

/// The taps of a depthwise output pixel that lie inside the image, along one axis: `[*start, *end)`.
/// A pooling window's span along one axis, clipped to the image: [*lo, *hi) from `origin` (the output
/// position times the stride, minus the padding); empty when *lo >= *hi.
static inline void qc_pool_span(ptrdiff_t origin, ptrdiff_t kernel, ptrdiff_t size, ptrdiff_t *lo, ptrdiff_t *hi) {
    *lo = origin > 0 ? origin : 0;
    *hi = origin + kernel < size ? origin + kernel : size;
}

static inline void qc_dw_tap_range(ptrdiff_t origin, ptrdiff_t kernel, ptrdiff_t dilation, ptrdiff_t size,
                                   ptrdiff_t *start, ptrdiff_t *end) {
    ptrdiff_t s = 0, e = kernel;
    while (s < e && origin + s * dilation < 0) s++;
    while (e > s && origin + (e - 1) * dilation >= size) e--;
    *start = s;
    *end = e;
}

/// The float pool's window for output coordinate `out` along one axis, clipped to the input: [*start, *end).
static inline void qc_pool_window(ptrdiff_t out, ptrdiff_t stride, ptrdiff_t pad, ptrdiff_t kernel, ptrdiff_t size,
                                  ptrdiff_t *start, ptrdiff_t *end) {
    const ptrdiff_t origin = out * stride - pad;
    ptrdiff_t s = origin < 0 ? 0 : origin, e = origin + kernel > size ? size : origin + kernel;
    *start = s;
    *end = e < s ? s : e;
}

/// One float pool output pixel, channels `ch0 ..< channels`, over window rows [y0, y1) and columns
/// [x0, x1): the scalar level, and the vector levels' last channels. Max keeps the earlier value unless
/// the new one is >= it (Swift's `max`), from -inf; average sums in (y, x) order from 0, then scales.
static inline void qc_pool_pixel_f32_plain(const float *sample, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t ch0,
                                           ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t x0, ptrdiff_t x1, int average,
                                           float scale, float *o) {
    for (ptrdiff_t ch = ch0; ch < channels; ch++) {
        float acc = average ? 0.0f : -__builtin_inff();
        for (ptrdiff_t y = y0; y < y1; y++) {
            for (ptrdiff_t x = x0; x < x1; x++) {
                const float v = sample[(y * in_w + x) * channels + ch];
                if (average) {
                    acc += v;
                } else {
                    acc = v >= acc ? v : acc;
                }
            }
        }
        o[ch] = average ? acc * scale : acc;
    }
}

/// `1 / max(pixels, 1)`, the average pool's scale for a clipped window.
static inline float qc_pool_scale(ptrdiff_t y0, ptrdiff_t y1, ptrdiff_t x0, ptrdiff_t x1) {
    const ptrdiff_t n = (y1 - y0) * (x1 - x0);
    return 1.0f / (float)(n > 1 ? n : 1);
}

// ---- Float sigmoid, tanh and swish (`qc_activation_f32`) ------------------------------------------
// Each level's function is one loop over these element functions, compiled under its target attribute
// and vectorised by the compiler at that width. Floating-point contraction is off, so every multiply
// and add rounds on its own, exactly as the Swift `VectorMath` reference does (Swift never fuses), and
// every level and lane gives the same floats.

static inline uint32_t qc_f32_bits(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static inline float qc_f32_from_bits(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

/// Cephes' `expf` as `VectorMath.exp`: clamped to [-87.33654, 88], `x = n ln2 + r`, `e^r` by a degree-5
/// polynomial, times 2^n built in the exponent bits.
static inline float qc_exp_f32_plain(float x) {
#pragma clang fp contract(off)
    x = x < -87.33654f ? -87.33654f : x;
    x = x > 88.0f ? 88.0f : x;
    const float magic = 12582912.0f;
    const float t = x * 1.44269504f + magic;
    const float n = t - magic;
    float r = x + n * -0.693359375f;
    r = r + n * 2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = 1.3981999507e-3f + p * r;
    p = 8.3334519073e-3f + p * r;
    p = 4.1665795894e-2f + p * r;
    p = 1.6666665459e-1f + p * r;
    p = 5.0000001201e-1f + p * r;
    const float er = (r + 1.0f) + p * (r * r);
    const uint32_t scale = (qc_f32_bits(t) - 0x4B400000u + 127u) << 23;
    return er * qc_f32_from_bits(scale);
}

static inline float qc_sigmoid_f32_plain(float x) {
#pragma clang fp contract(off)
    return 1.0f / (1.0f + qc_exp_f32_plain(-x));
}

/// `VectorMath.tanh`: `x + x^3 Q(x^2)` below |x| = 0.625, `sign(x) (1 - 2 / (e^2|x| + 1))` above.
static inline float qc_tanh_f32_plain(float x) {
#pragma clang fp contract(off)
    const float z = x * x;
    float q = -5.70498872745e-3f;
    q = 2.06390887954e-2f + q * z;
    q = -5.37397155531e-2f + q * z;
    q = 1.33314422036e-1f + q * z;
    q = -3.33332819422e-1f + q * z;
    const float small = x + (q * z) * x;
    const float magnitude = qc_f32_from_bits(qc_f32_bits(x) & 0x7FFFFFFFu);
    const float large = 1.0f - 2.0f / (qc_exp_f32_plain(magnitude + magnitude) + 1.0f);
    const float signed_large = x < 0 ? -large : large;
    return magnitude < 0.625f ? small : signed_large;
}

/// The loop every level's `qc_activation_f32` runs (kind: 0 sigmoid, 1 tanh, 2 swish = x sigmoid(x)).
static inline __attribute__((always_inline)) void qc_activation_f32_loop(int kind, float *x, ptrdiff_t n) {
#pragma clang fp contract(off)
    if (kind == 0) {
        for (ptrdiff_t i = 0; i < n; i++) x[i] = qc_sigmoid_f32_plain(x[i]);
    } else if (kind == 1) {
        for (ptrdiff_t i = 0; i < n; i++) x[i] = qc_tanh_f32_plain(x[i]);
    } else {
        for (ptrdiff_t i = 0; i < n; i++) x[i] = x[i] * qc_sigmoid_f32_plain(x[i]);
    }
}

/// The loop every level's `qc_add_f32` runs: the sum, then relu / relu6 as Swift's `max(y, 0)` /
/// `min(_, 6)`. `out` may alias `a` or `b` element for element only, so the vectoriser may ignore
/// the possible overlap (each vector is loaded before the same lanes are stored).
static inline __attribute__((always_inline)) void qc_add_f32_loop(const float *a, const float *b, float *out,
                                                                  ptrdiff_t n, int activation) {
    if (activation == QC_TAIL_RELU) {
#pragma clang loop vectorize(assume_safety)
        for (ptrdiff_t i = 0; i < n; i++) {
            const float y = a[i] + b[i];
            out[i] = 0.0f >= y ? 0.0f : y;
        }
    } else if (activation == QC_TAIL_RELU6) {
#pragma clang loop vectorize(assume_safety)
        for (ptrdiff_t i = 0; i < n; i++) {
            const float y = a[i] + b[i];
            const float r = 0.0f >= y ? 0.0f : y;
            out[i] = 6.0f < r ? 6.0f : r;
        }
    } else {
#pragma clang loop vectorize(assume_safety)
        for (ptrdiff_t i = 0; i < n; i++) out[i] = a[i] + b[i];
    }
}

#endif
