// The portable level of the float kernels: plain C loops (the compiler may vectorise them with the
// baseline SSE2 / NEON). Without FMA on x86-64 every multiply-add rounds twice, so results differ
// from the AVX2 level's by float rounding only (the tests' tolerance). Contracts in include/CKernels.h.
#include "kernels_internal.h"

/// `tail` (CKernels.h) on column n's value: a multiply, then an add, then Swift's max / min.
static inline float qc_f32_tail_one(const qc_f32_tail *tail, int n, float v) {
#pragma clang fp contract(off)
    if (tail->scale) {
        v = v * tail->scale[n];
        v = v + tail->shift[n];
    }
    if (tail->activation != QC_TAIL_NONE) v = 0.0f >= v ? 0.0f : v;
    if (tail->activation == QC_TAIL_RELU6) v = 6.0f < v ? 6.0f : v;
    return v;
}

/// The micro-kernels' one body: `width` columns, A from a packed panel (`offsets` and `rows` NULL),
/// read in place (`offsets`), or through a row table (`rows`, `cin` channels per tap). Every output
/// sums over k in the same order in all three.
static inline void qc_sgemm_6xn(int width, ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *offsets,
                                const float *const *rows, ptrdiff_t cin, const float *b, float *c, ptrdiff_t ldc,
                                const float *bias, int clamps, float lo, float hi, const qc_f32_tail *tail) {
    float acc[6][16];
    for (int r = 0; r < 6; r++) {
        for (int n = 0; n < width; n++) acc[r][n] = bias ? bias[n] : c[r * ldc + n];
    }
    for (ptrdiff_t k = 0; k < kc; k++) {
        const float *bk = b + 16 * k;
        const float *const *tap = rows ? rows + 6 * (k / cin) : NULL;
        const ptrdiff_t i = rows ? k % cin : 0;
        for (int r = 0; r < 6; r++) {
            float av = tap ? tap[r][i] : (offsets ? a[offsets[k] + r * a_step] : a[6 * k + r]);
            for (int n = 0; n < width; n++) acc[r][n] += av * bk[n];
        }
    }
    for (int r = 0; r < 6; r++) {
        for (int n = 0; n < width; n++) {
            float v = acc[r][n];
            if (clamps) v = v < lo ? lo : (v > hi ? hi : v);
            if (tail) v = qc_f32_tail_one(tail, n, v);
            c[r * ldc + n] = v;
        }
    }
}

void qc_sgemm_6x16_scalar(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b,
                          float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                          const qc_f32_tail *tail) {
    qc_sgemm_6xn(16, kc, a, a_step, a_offsets, NULL, 1, b, c, ldc, bias, clamps, lo, hi, tail);
}

void qc_sgemm_6x8_scalar(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b,
                         float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                         const qc_f32_tail *tail) {
    qc_sgemm_6xn(8, kc, a, a_step, a_offsets, NULL, 1, b, c, ldc, bias, clamps, lo, hi, tail);
}

void qc_sgemm_6x4_scalar(ptrdiff_t kc, const float *a, ptrdiff_t a_step, const ptrdiff_t *a_offsets, const float *b,
                         float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                         const qc_f32_tail *tail) {
    qc_sgemm_6xn(4, kc, a, a_step, a_offsets, NULL, 1, b, c, ldc, bias, clamps, lo, hi, tail);
}

void qc_sgemm_6xw_indirect_scalar(int width, ptrdiff_t taps, ptrdiff_t cin, const float *const *rows, const float *b,
                                  float *c, ptrdiff_t ldc, const float *bias, int clamps, float lo, float hi,
                                  const qc_f32_tail *tail) {
    qc_sgemm_6xn(width, taps * cin, NULL, 0, NULL, rows, cin, b, c, ldc, bias, clamps, lo, hi, tail);
}

void qc_depthwise_row_f32_scalar(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels,
                                 const float *weights, const float *bias, ptrdiff_t kernel_h, ptrdiff_t kernel_w,
                                 ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t dilation_h, ptrdiff_t dilation_w,
                                 ptrdiff_t pad_top, ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, float *out,
                                 int clamps, float lo, float hi) {
    ptrdiff_t origin_y = out_y * stride_h - pad_top, ky0, ky1;
    qc_dw_tap_range(origin_y, kernel_h, dilation_h, in_h, &ky0, &ky1);
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t origin_x = ox * stride_w - pad_left, kx0, kx1;
        qc_dw_tap_range(origin_x, kernel_w, dilation_w, in_w, &kx0, &kx1);
        float *o = out + ox * channels;
        for (ptrdiff_t ch = 0; ch < channels; ch++) o[ch] = bias[ch];
        for (ptrdiff_t ky = ky0; ky < ky1; ky++) {
            const float *in_row = sample + (origin_y + ky * dilation_h) * in_w * channels;
            const float *w_row = weights + ky * kernel_w * channels;
            for (ptrdiff_t kx = kx0; kx < kx1; kx++) {
                const float *in = in_row + (origin_x + kx * dilation_w) * channels, *w = w_row + kx * channels;
                for (ptrdiff_t ch = 0; ch < channels; ch++) o[ch] += in[ch] * w[ch];
            }
        }
        if (clamps) {
            for (ptrdiff_t ch = 0; ch < channels; ch++) o[ch] = o[ch] < lo ? lo : (o[ch] > hi ? hi : o[ch]);
        }
    }
}

void qc_pool_row_f32_scalar(const float *sample, ptrdiff_t in_h, ptrdiff_t in_w, ptrdiff_t channels, ptrdiff_t kernel_h,
                            ptrdiff_t kernel_w, ptrdiff_t stride_h, ptrdiff_t stride_w, ptrdiff_t pad_top,
                            ptrdiff_t pad_left, ptrdiff_t out_y, ptrdiff_t out_w, int average, float *out) {
    ptrdiff_t y0, y1;
    qc_pool_window(out_y, stride_h, pad_top, kernel_h, in_h, &y0, &y1);
    for (ptrdiff_t ox = 0; ox < out_w; ox++) {
        ptrdiff_t x0, x1;
        qc_pool_window(ox, stride_w, pad_left, kernel_w, in_w, &x0, &x1);
        qc_pool_pixel_f32_plain(sample, in_w, channels, 0, y0, y1, x0, x1, average, qc_pool_scale(y0, y1, x0, x1),
                                out + ox * channels);
    }
}

void qc_activation_f32_scalar(int kind, float *x, ptrdiff_t n) { qc_activation_f32_loop(kind, x, n); }

void qc_add_f32_scalar(const float *a, const float *b, float *out, ptrdiff_t n, int activation) {
    qc_add_f32_loop(a, b, out, n, activation);
}

float qc_fma_probe_scalar(ptrdiff_t iterations, float seed, int64_t *flops) {
    *flops = (int64_t)iterations * 12 * 8 * 2;
    float acc[12][8];
    for (int i = 0; i < 12; i++) {
        for (int l = 0; l < 8; l++) acc[i][l] = 1.0f + (float)i;
    }
    for (ptrdiff_t it = 0; it < iterations; it++) {
        for (int i = 0; i < 12; i++) {
            for (int l = 0; l < 8; l++) acc[i][l] = acc[i][l] * 0.999999f + seed;
        }
    }
    float total = 0;
    for (int i = 0; i < 12; i++) {
        for (int l = 0; l < 8; l++) total += acc[i][l];
    }
    return total;
}
