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
                             const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi); \
    void qc_sgemm_6x8_##sfx(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, \
                            const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi); \
    void qc_sgemm_6x4_##sfx(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, \
                            const float *b, float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi); \
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
                                     float lo, float hi); \
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
    void qc_offset_u8_##sfx(const int32_t *x, ptrdiff_t n, int32_t offset, uint8_t *out);

QC_DECLARE_LEVEL(scalar)
#if QC_X86
QC_DECLARE_LEVEL(avx2)
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
#endif

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

/// Scalar tails shared by every level: rows `0 ..< rows`, channels `j0 ..< channels`.
static inline void qc_requant_rows_tail(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t j0, ptrdiff_t channels,
                                        const int32_t *bias, const int32_t *mult, const int32_t *shift, int32_t zout,
                                        int32_t lo, int32_t hi, int32_t *out, ptrdiff_t out_stride, int profile) {
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

#endif
