// The portable level of the integer kernels: plain C, the same integers as every vector level (int32
// sums wrap, as vpaddd does). Contracts in include/CKernels.h.
#include "kernels_internal.h"

void qc_gemm_s16_4x16_scalar(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c,
                             ptrdiff_t ldc, int accumulate) {
    for (int r = 0; r < 4; r++) {
        for (int n = 0; n < 16; n++) {
            uint32_t sum = accumulate ? (uint32_t)c[r * ldc + n] : 0u;
            const int16_t *w = b + (n < 8 ? 2 * n : 16 + 2 * (n - 8));
            for (ptrdiff_t p = 0; p < kpairs; p++) {
                int32_t pair = (int32_t)a[r * lda + 2 * p] * w[32 * p] + (int32_t)a[r * lda + 2 * p + 1] * w[32 * p + 1];
                sum += (uint32_t)pair;
            }
            c[r * ldc + n] = (int32_t)sum;
        }
    }
}

void qc_gemm_s16_4x8_scalar(const int16_t *a, ptrdiff_t lda, const int16_t *b, ptrdiff_t kpairs, int32_t *c,
                            ptrdiff_t ldc, int accumulate) {
    for (int r = 0; r < 4; r++) {
        for (int n = 0; n < 8; n++) {
            uint32_t sum = accumulate ? (uint32_t)c[r * ldc + n] : 0u;
            const int16_t *w = b + 2 * n;
            for (ptrdiff_t p = 0; p < kpairs; p++) {
                int32_t pair = (int32_t)a[r * lda + 2 * p] * w[32 * p] + (int32_t)a[r * lda + 2 * p + 1] * w[32 * p + 1];
                sum += (uint32_t)pair;
            }
            c[r * ldc + n] = (int32_t)sum;
        }
    }
}

void qc_gemm_u8s8_4x16_scalar(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c,
                              ptrdiff_t ldc, int accumulate) {
    for (int r = 0; r < 4; r++) {
        for (int n = 0; n < 16; n++) {
            uint32_t sum = accumulate ? (uint32_t)c[r * ldc + n] : 0u;
            const int8_t *w = b + (n < 8 ? 4 * n : 32 + 4 * (n - 8));
            for (ptrdiff_t q = 0; q < kquads; q++) {
                for (int j = 0; j < 4; j++) sum += (uint32_t)((int32_t)a[r * lda + 4 * q + j] * w[64 * q + j]);
            }
            c[r * ldc + n] = (int32_t)sum;
        }
    }
}

void qc_gemm_u8s8_4x16_i16_scalar(const uint8_t *a, ptrdiff_t lda, const int8_t *b, ptrdiff_t kquads, int32_t *c,
                                  ptrdiff_t ldc, int accumulate, ptrdiff_t chunk) {
    (void)chunk;  // int32 sums throughout: exact for any chunk.
    qc_gemm_u8s8_4x16_scalar(a, lda, b, kquads, c, ldc, accumulate);
}

void qc_gemm_u8s8_4x16_indirect_scalar(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
                                       const int8_t *b, int32_t *c, ptrdiff_t ldc, int accumulate) {
    for (int r = 0; r < 4; r++) {
        for (int n = 0; n < 16; n++) {
            uint32_t sum = accumulate ? (uint32_t)c[r * ldc + n] : 0u;
            const int8_t *w = b + (n < 8 ? 4 * n : 32 + 4 * (n - 8));
            for (ptrdiff_t t = 0; t < taps; t++) {
                const uint8_t *a = rows[4 * t + r];
                const int8_t *wt = w + 64 * t * tap_quads;
                for (ptrdiff_t i = 0; i < 4 * tap_quads; i++) sum += (uint32_t)((int32_t)a[i] * wt[64 * (i / 4) + i % 4]);
            }
            c[r * ldc + n] = (int32_t)sum;
        }
    }
}

void qc_gemm_u8s8_4x32_indirect_scalar(ptrdiff_t taps, ptrdiff_t tap_quads, const uint8_t *const *rows,
                                       const int8_t *b, ptrdiff_t panel_stride, int32_t *c, ptrdiff_t ldc, int accumulate) {
    qc_gemm_u8s8_4x16_indirect_scalar(taps, tap_quads, rows, b, c, ldc, accumulate);
    qc_gemm_u8s8_4x16_indirect_scalar(taps, tap_quads, rows, b + panel_stride, c + 16, ldc, accumulate);
}

void qc_requant_rows_scalar(const int32_t *c, ptrdiff_t ldc, ptrdiff_t rows, ptrdiff_t channels, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift, int32_t zout, int32_t lo, int32_t hi,
                            int32_t *out, ptrdiff_t out_stride, int profile) {
    qc_requant_rows_tail(c, ldc, rows, 0, channels, bias, mult, shift, zout, lo, hi, out, out_stride, profile);
}

void qc_requant_flat_scalar(const int32_t *x, ptrdiff_t n, int32_t m, int32_t shift, int32_t zout, int32_t lo,
                            int32_t hi, int32_t *out, int profile) {
    qc_requant_flat_tail(x, 0, n, m, shift, zout, lo, hi, out, profile);
}

void qc_rescale_accumulate_scalar(const int32_t *x, ptrdiff_t n, int32_t z, int32_t left, int32_t m, int32_t shift,
                                  int32_t sign, int32_t *acc, int accumulate, int profile) {
    qc_rescale_accumulate_tail(x, 0, n, z, left, m, shift, sign, acc, accumulate, profile);
}

void qc_maxpool_row_i32_scalar(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
        ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
        ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t empty, int32_t *out) {
    ptrdiff_t ylo, yhi;
    qc_pool_span(out_y * stride_h - pad_top, kernel_h, in_h, &ylo, &yhi);
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t xlo, xhi;
        qc_pool_span(ox * stride_w - pad_left, kernel_w, in_w, &xlo, &xhi);
        int32_t *dst = out + ox * channels;
        if (ylo >= yhi || xlo >= xhi) {
            for (ptrdiff_t c = 0; c < channels; c++) dst[c] = empty;
            continue;
        }
        for (ptrdiff_t c = 0; c < channels; c++) {
            int32_t m = INT32_MIN;
            for (ptrdiff_t y = ylo; y < yhi; y++) {
                for (ptrdiff_t x = xlo; x < xhi; x++) {
                    int32_t v = sample[(y * in_w + x) * channels + c];
                    if (v > m) m = v;
                }
            }
            dst[c] = m;
        }
    }
}

void qc_lookup_i32_scalar(const int32_t *x, ptrdiff_t n, ptrdiff_t channels, const int32_t *table, ptrdiff_t levels,
        int32_t offset, int32_t *out) {
    for (ptrdiff_t i = 0, c = 0; i < n; i++) {
        out[i] = table[c * levels + (x[i] - offset)];
        if (++c == channels) c = 0;
    }
}

void qc_avgpool_row_i32_scalar(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
        ptrdiff_t kernel_h, ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
        ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, const uint64_t *magic, const uint64_t *shift,
        int32_t empty, int32_t lo, int32_t hi, int32_t *out) {
    ptrdiff_t ylo, yhi;
    qc_pool_span(out_y * stride_h - pad_top, kernel_h, in_h, &ylo, &yhi);
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t xlo, xhi;
        qc_pool_span(ox * stride_w - pad_left, kernel_w, in_w, &xlo, &xhi);
        int32_t *dst = out + ox * channels;
        if (ylo >= yhi || xlo >= xhi) {
            for (ptrdiff_t c = 0; c < channels; c++) dst[c] = empty;
            continue;
        }
        const ptrdiff_t count = (yhi - ylo) * (xhi - xlo);
        const uint64_t m = magic[count], s = shift[count], half = (uint64_t)(count / 2);
        for (ptrdiff_t c = 0; c < channels; c++) {
            uint32_t sum = 0;
            for (ptrdiff_t y = ylo; y < yhi; y++) {
                for (ptrdiff_t x = xlo; x < xhi; x++) sum += (uint32_t)sample[(y * in_w + x) * channels + c];
            }
            const int32_t total = (int32_t)sum;
            const uint32_t magnitude = total < 0 ? 0u - (uint32_t)total : (uint32_t)total;
            const int32_t q = (int32_t)((((uint64_t)magnitude + half) * m) >> s);
            const int32_t mean = total >= 0 ? q : -q;
            dst[c] = mean < lo ? lo : mean > hi ? hi : mean;
        }
    }
}

void qc_offset_u8_scalar(const int32_t *x, ptrdiff_t n, int32_t offset, uint8_t *out) {
    for (ptrdiff_t i = 0; i < n; i++) out[i] = (uint8_t)(uint32_t)(x[i] - offset);
}

void qc_depthwise_row_i32_scalar(const int32_t *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                                 const int32_t *weights, int32_t zin, ptrdiff_t kernel_h, ptrdiff_t kernel_w,
                                 ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w,
                                 ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int32_t *acc) {
    ptrdiff_t origin_y = out_y * stride_h - pad_top, ky0, ky1;
    qc_dw_tap_range(origin_y, kernel_h, dilation_h, in_h, &ky0, &ky1);
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t origin_x = ox * stride_w - pad_left, kx0, kx1;
        qc_dw_tap_range(origin_x, kernel_w, dilation_w, in_w, &kx0, &kx1);
        uint32_t *a = (uint32_t *)(acc + ox * channels);
        for (ptrdiff_t c = 0; c < channels; c++) a[c] = 0;
        for (ptrdiff_t ky = ky0; ky < ky1; ky++) {
            for (ptrdiff_t kx = kx0; kx < kx1; kx++) {
                const int32_t *x = sample + ((origin_y + ky * dilation_h) * in_w + origin_x + kx * dilation_w) * channels;
                const int32_t *w = weights + (ky * kernel_w + kx) * channels;
                for (ptrdiff_t c = 0; c < channels; c++) a[c] += ((uint32_t)x[c] - (uint32_t)zin) * (uint32_t)w[c];
            }
        }
    }
}

/// The level's int8 peak probe: twelve independent 32-bit multiply-add chains (wrapping, as the
/// scalar GEMM's sums), whatever the compiler makes of them for the baseline ISA.
int64_t qc_int8_probe_scalar(ptrdiff_t iterations, int64_t seed, int64_t *ops) {
    uint32_t c[12];
    const uint32_t m = (uint32_t)(seed | 1);
    for (int j = 0; j < 12; j++) c[j] = (uint32_t)j + 1;
    for (ptrdiff_t i = 0; i < iterations; i++) {
        for (int j = 0; j < 12; j++) c[j] = c[j] * m + (uint32_t)j;
    }
    int64_t sum = 0;
    for (int j = 0; j < 12; j++) sum += c[j];
    *ops = (int64_t)iterations * 12 * 2;
    return sum;
}

// ---- The graph input's quantization (QTensor.quantizeEdge) --------------------------------------------

void qc_quantize_edge_f32_scalar(const float *x, ptrdiff_t n, float scale, int32_t zero, float below, float above,
        int32_t *q) {
    for (ptrdiff_t i = 0; i < n; i++) q[i] = qc_quantize_edge_one(x[i], scale, zero, below, above);
}
